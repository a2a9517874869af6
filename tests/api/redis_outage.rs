//! Redis down under load and back: valid webhooks are still accepted (Redis only speeds up
//! duplicate detection, Postgres decides), a duplicate is still a 200, `/readyz` says
//! `degraded` and then `up` again, and every acknowledged event is delivered.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::private_redis::PrivateRedis;
use crate::sink::Sink;
use std::time::{Duration, Instant};

async fn post(app: &TestApp, delivery: &str, body: &str) -> u16 {
    let signed = sign::github(secrets::GITHUB, body.as_bytes(), delivery);
    app.post("github", &signed, body.to_string())
        .await
        .status()
        .as_u16()
}

async fn redis_readiness(app: &TestApp) -> String {
    let ready = json(app.readyz().await).await;
    ready["redis"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_under_load_loses_nothing_and_recovers() {
    let mut redis = PrivateRedis::start();
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        redis: Some(redis.url()),
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let mut acked = 0;
    let first = unique_body();
    assert_eq!(post(&app, "redis-outage-first", &first).await, 202);
    acked += 1;
    assert_eq!(redis_readiness(&app).await, "up");

    redis.stop();
    for n in 0..50 {
        let status = post(&app, &format!("redis-outage-{n}"), &unique_body()).await;
        assert_eq!(status, 202, "webhook {n} while Redis is down");
        acked += 1;
    }
    assert_eq!(
        post(&app, "redis-outage-first", &first).await,
        200,
        "still a duplicate"
    );
    assert_eq!(redis_readiness(&app).await, "degraded");

    redis.start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis_readiness(&app).await != "up" {
        assert!(
            Instant::now() < deadline,
            "Redis not back in /readyz within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for n in 0..10 {
        let status = post(&app, &format!("redis-back-{n}"), &unique_body()).await;
        assert_eq!(status, 202);
        acked += 1;
    }
    assert_eq!(
        post(&app, "redis-back-0", "again").await,
        200,
        "a duplicate once it is back"
    );

    let delivered = sink.wait_for(acked, Duration::from_secs(30)).await;
    let keys: std::collections::HashSet<&str> = delivered
        .iter()
        .map(|r| r.header("Idempotency-Key"))
        .collect();
    assert_eq!(keys.len(), acked, "every acknowledged event delivered once");
    app.stop().await;
}
