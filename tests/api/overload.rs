//! Overload: when commits cannot keep up, ingest answers fast 503s with Retry-After, stores
//! exactly what it acknowledged, and stores nothing it refused.

use crate::helpers::*;
use crate::independent_sign as sign;
use futures_util::StreamExt;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests fired at once while the writers are blocked.
const FLOOD: usize = 800;
/// Writer tasks of the default `WriterOptions`.
fn writers() -> i64 {
    hookgate::ingest::writer::WriterOptions::default().writers as i64
}

/// One request and how it was answered.
struct Answer {
    event_id: String,
    body: String,
    status: u16,
    retry_after: bool,
    code: Option<String>,
    id: Option<String>,
    /// Answered before the test released its lock on the events table.
    while_locked: bool,
}

async fn send(app: &TestApp, body: String, locked: &AtomicBool) -> Answer {
    let event_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    let response = app.post("stripe", &headers, body.clone()).await;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let answer = json(response).await;
    let while_locked = locked.load(Ordering::SeqCst);
    Answer {
        event_id,
        body,
        status,
        retry_after,
        code: answer["code"].as_str().map(str::to_owned),
        id: answer["id"].as_str().map(str::to_owned),
        while_locked,
    }
}

/// hookgate's connections whose event inserts wait for a lock (the test's). Only those: its
/// other statements (say, a day partition being created) may wait for the lock too.
async fn blocked_writers(app: &TestApp) -> i64 {
    app.count(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = 'hookgate' AND wait_event_type = 'Lock' \
         AND query LIKE '%INSERT INTO events%'",
    )
    .await
}

/// The sum of the samples of `metric` whose labels include every one of `labels`.
async fn metric_sum(app: &TestApp, metric: &str, labels: &[&str]) -> f64 {
    let text = metrics_text(&app.admin).await;
    text.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocked_commits_get_fast_503s_and_only_acknowledged_events_are_stored() {
    let (app, database_url) = start_ingest_with("max_queue_wait_ms = 1").await;
    let app = Arc::new(app);

    // Inserts into events now wait for this transaction.
    let mut blocker = PgConnection::connect(&database_url).await.unwrap();
    let mut lock = blocker.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();

    let locked = Arc::new(AtomicBool::new(true));

    // One request at a time until every writer is stuck in a blocked insert.
    let mut pending = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while blocked_writers(&app).await < writers() {
        let (sender, locked) = (app.clone(), locked.clone());
        pending.push(tokio::spawn(async move {
            send(&sender, unique_body(), &locked).await
        }));
        let waiting = pending.len() as i64;
        while blocked_writers(&app).await < waiting.min(writers()) {
            assert!(
                Instant::now() < deadline,
                "writers did not block on the lock"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // The flood: nothing can be committed, so most of it must be refused without waiting.
    let refused_while_locked = Arc::new(AtomicUsize::new(0));
    for _ in 0..FLOOD {
        let (app, locked) = (app.clone(), locked.clone());
        let refused_while_locked = refused_while_locked.clone();
        pending.push(tokio::spawn(async move {
            let answer = send(&app, unique_body(), &locked).await;
            if answer.status == 503 && answer.while_locked {
                refused_while_locked.fetch_add(1, Ordering::SeqCst);
            }
            answer
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while refused_while_locked.load(Ordering::SeqCst) < FLOOD / 2 {
        assert!(
            Instant::now() < deadline,
            "only {} of {FLOOD} requests refused while commits were blocked",
            refused_while_locked.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Refusals mean the queue had grown past the admission floor: hold the lock until those
    // queued events are past the 1 s deadline (4 × max_queue_wait, at least 1 s), so the
    // writers refuse them unwritten once they are free.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    locked.store(false, Ordering::SeqCst);
    lock.rollback().await.unwrap();

    let mut answers = Vec::new();
    for task in pending {
        answers.push(task.await.unwrap());
    }
    let acknowledged: Vec<&Answer> = answers.iter().filter(|a| a.status == 202).collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(
        acknowledged.len() + refused.len(),
        answers.len(),
        "only 202 or 503: {:?}",
        answers
            .iter()
            .map(|a| a.status)
            .filter(|s| *s != 202 && *s != 503)
            .collect::<Vec<_>>()
    );
    assert!(
        !acknowledged.is_empty(),
        "the batches already in flight were not written"
    );
    assert!(refused.len() >= FLOOD / 2);
    assert!(
        refused.iter().any(|a| !a.while_locked),
        "events queued past the deadline were refused when the writers picked them up"
    );
    for answer in &refused {
        assert!(answer.retry_after, "a 503 without Retry-After");
        assert_eq!(answer.code.as_deref(), Some("overloaded"));
    }
    // The metrics count them as overloaded (the recorder is shared by every test in this
    // process: at least this test's refusals).
    let requests = "hookgate_ingest_requests_total";
    let overloaded = metric_sum(
        &app,
        requests,
        &[r#"source="stripe""#, r#"outcome="overloaded""#],
    );
    let overloaded = overloaded.await;
    assert!(
        overloaded >= refused.len() as f64,
        "{overloaded} counted, {} refused",
        refused.len()
    );
    // And their server-side latency is recorded with the 2xx answers'.
    let timed = "hookgate_ingest_response_seconds_count";
    let timed_503 = metric_sum(&app, timed, &[r#"status="503""#]).await;
    assert!(timed_503 >= refused.len() as f64, "{timed_503} 503s timed");

    // Every acknowledged event is stored, with its deliveries; no refused event is.
    let ids: Vec<uuid::Uuid> = acknowledged
        .iter()
        .map(|a| a.id.as_deref().unwrap().parse().unwrap())
        .collect();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, ids.len() as i64, "an acknowledged event is missing");
    let deliveries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE event_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(deliveries, 2 * ids.len() as i64);
    let refused_ids: Vec<&str> = refused.iter().map(|a| a.event_id.as_str()).collect();
    let stored_refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE source_id = 'stripe' AND event_id = ANY($1)",
    )
    .bind(&refused_ids)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored_refused, 0, "an event answered 503 was stored");
    assert_eq!(
        app.count("SELECT count(*) FROM events").await,
        ids.len() as i64
    );

    // The provider retries what was refused: each is new, and then everything is stored once.
    let retried: Vec<Answer> = futures_util::stream::iter(refused.iter().map(|a| a.body.clone()))
        .map(|body| {
            let app = app.clone();
            let unlocked = AtomicBool::new(false);
            async move { send(&app, body, &unlocked).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for answer in &retried {
        assert_eq!(answer.status, 202, "a retried event was not new");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM events").await,
        answers.len() as i64
    );

    Arc::into_inner(app)
        .expect("no request holds the app")
        .stop()
        .await;
}
