//! Group commit below saturation: a webhook that finds the commit writer idle waits up to
//! `[server] commit_linger_ms` for others to share its commit. Which events shared a commit is
//! read from Postgres itself: rows written by one transaction carry its id (`xmin`).

use crate::helpers::*;
use crate::independent_sign as sign;
use std::sync::Arc;
use std::time::Duration;

/// Sends `count` signed events `apart` from one another without waiting for the answers, and
/// asserts every one was accepted.
async fn send_spaced(app: Arc<TestApp>, count: usize, apart: Duration) {
    let mut answers = Vec::new();
    for _ in 0..count {
        let app = app.clone();
        answers.push(tokio::spawn(async move {
            let body = unique_body();
            let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
            app.post("stripe", &headers, body).await.status().as_u16()
        }));
        tokio::time::sleep(apart).await;
    }
    for answer in answers {
        assert_eq!(answer.await.expect("request task"), 202);
    }
}

/// How many transactions wrote the stored events.
async fn commits(app: &TestApp) -> i64 {
    app.count("SELECT count(DISTINCT xmin::text) FROM event_keys")
        .await
}

#[tokio::test]
async fn events_arriving_while_the_first_lingers_share_its_commit() {
    let (app, _database) =
        start_ingest_with("commit_linger_ms = 400\nmax_queue_wait_ms = 1000").await;
    let app = Arc::new(app);
    send_spaced(app.clone(), 3, Duration::from_millis(50)).await;
    assert_eq!(app.count("SELECT count(*) FROM event_keys").await, 3);
    assert_eq!(commits(&app).await, 1);
}

#[tokio::test]
async fn without_linger_a_lone_event_is_committed_at_once() {
    let (app, _database) = start_ingest_with("commit_linger_ms = 0").await;
    let app = Arc::new(app);
    send_spaced(app.clone(), 3, Duration::from_millis(300)).await;
    assert_eq!(app.count("SELECT count(*) FROM event_keys").await, 3);
    assert_eq!(commits(&app).await, 3);
}
