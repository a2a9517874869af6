//! Drills: Postgres crashes while webhooks arrive. Nothing answered 2xx may be lost, and
//! ingest recovers by itself.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::private_pg::PrivatePostgres;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_means_503_with_retry_after_and_ingest_recovers_after_restart() {
    let pg = PrivatePostgres::start();
    let app = spawn_app_with(TestOptions {
        server: Some(pg.url()),
        ..Default::default()
    })
    .await;
    let post_new = || async {
        let body = unique_body();
        app.post(
            "stripe",
            &sign::stripe(secrets::STRIPE, body.as_bytes(), now()),
            body,
        )
        .await
    };
    assert_eq!(post_new().await.status(), 202);

    pg.crash();
    let refused = post_new().await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(json(refused).await["code"], "storage_unavailable");
    let ready = app
        .http
        .get(format!("{}/readyz", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);

    pg.start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = post_new().await.status();
        if status == 202 {
            break;
        }
        assert_eq!(status, 503, "only 503 while recovering");
        assert!(
            Instant::now() < deadline,
            "ingest did not recover after Postgres restarted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = app
        .http
        .get(format!("{}/readyz", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_acknowledged_under_load_survives_a_postgres_crash() {
    let pg = PrivatePostgres::start();
    let app = Arc::new(
        spawn_app_with(TestOptions {
            server: Some(pg.url()),
            ..Default::default()
        })
        .await,
    );
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop_at = Instant::now() + Duration::from_secs(4);

    let mut load = Vec::new();
    for _ in 0..8 {
        let (app, acknowledged) = (app.clone(), acknowledged.clone());
        load.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while Instant::now() < stop_at {
                let body = unique_body();
                let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
                let response = app.post("stripe", &headers, body).await;
                let status = response.status().as_u16();
                statuses.push(status);
                if status == 202 {
                    let ack = json(response).await;
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(ack["event_id"].as_str().unwrap().to_owned());
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    pg.crash();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    pg.start_again();

    let mut statuses = Vec::new();
    for task in load {
        statuses.extend(task.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 503),
        "only 202 or 503: {:?}",
        statuses
            .iter()
            .filter(|s| **s != 202 && **s != 503)
            .collect::<Vec<_>>()
    );
    assert!(statuses.contains(&503), "the crash was seen");

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "load flowed: {}",
        acknowledged.len()
    );
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT event_id FROM events WHERE event_id = ANY($1)")
            .bind(&acknowledged)
            .fetch_all(&sqlx::PgPool::connect(&app.database_url).await.unwrap())
            .await
            .unwrap();
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
    let deliveries = app.count("SELECT count(*) FROM deliveries").await;
    assert!(deliveries >= 2 * acknowledged.len() as i64);
}
