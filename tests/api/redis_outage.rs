//! Redis down under load and back: valid webhooks are still accepted (Redis only speeds up
//! duplicate detection, Postgres decides), a duplicate is still a 200, `/readyz` says
//! `degraded` and then `up` again, and every acknowledged event is delivered.

use crate::drill::{self, Load, figures, scale};
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

const SENDERS: usize = 4;

async fn redis_readiness(app: &TestApp) -> String {
    let ready = json(app.readyz().await).await;
    ready["redis"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_under_load_loses_nothing_and_recovers() {
    let mut redis = PrivateRedis::start();
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        redis: Some(redis.url()),
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let first = unique_body();
    let signed = sign::github(secrets::GITHUB, first.as_bytes(), "redis-outage-first");
    let accepted = app.post("github", &signed, first.clone()).await;
    assert_eq!(accepted.status(), 202);
    let first_id = json(accepted).await["id"].as_str().unwrap().to_owned();
    assert_eq!(redis_readiness(&app).await, "up");
    let load = Load::start(std::slice::from_ref(&app.ingest), SENDERS);
    load.wait_for_acks(20, Duration::from_secs(30)).await;

    redis.stop();
    let outage = scale(Duration::from_secs(3), Duration::from_secs(120));
    let acked_before = load.acked();
    tokio::time::sleep(outage).await;
    let acked_during = load.acked() - acked_before;
    assert!(acked_during > 0, "no webhook accepted while Redis was down");
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
    load.wait_for_acks(20, Duration::from_secs(30)).await;
    assert_eq!(
        post(&app, "redis-outage-first", &first).await,
        200,
        "a duplicate once it is back"
    );
    let report = load.finish().await;
    assert_eq!(
        report.statuses.keys().collect::<Vec<_>>(),
        [&202],
        "only acknowledgements for valid webhooks"
    );
    let mut acked = report.acked.clone();
    acked.insert(first_id);
    let repeats = drill::wait_all_delivered(&sink, &acked, Duration::from_secs(60)).await;
    assert_eq!(repeats, 0, "every acknowledged event delivered once");
    figures(
        "redis-outage",
        &[
            ("senders", SENDERS.to_string()),
            ("outage", format!("{outage:?}")),
            ("answers", report.statuses_text()),
            ("acked_while_down", acked_during.to_string()),
            ("acked", acked.len().to_string()),
            ("delivered", acked.len().to_string()),
            ("duplicates", repeats.to_string()),
        ],
    );
    app.stop().await;
}
