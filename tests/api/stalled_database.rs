//! Postgres that accepts connections but stalls: another session holds a lock on `events`, so
//! every insert waits. Ingest still answers every request (503 with Retry-After, never a hang,
//! never a 2xx for an event not stored), and once the lock goes, stores again without a
//! restart; every acknowledged event is delivered.

use crate::drill::figures;
use crate::helpers::*;
use crate::sink::Sink;
use sqlx::{Connection, Executor, PgConnection};
use std::time::{Duration, Instant};

/// The longest a request may wait: the store's statement timeout (15 s) bounds the stalled
/// commit, and everything queued behind it is refused after its queue deadline (1 s).
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_database_gets_answers_not_hangs_and_recovers() {
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    assert_eq!(app.post_new_github().await.status(), 202);

    let mut locker = PgConnection::connect(&app.database_url).await.unwrap();
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let started = Instant::now();
    let stalled: Vec<_> = (0..20)
        .map(|_| {
            let app = &app;
            async move {
                let sent = Instant::now();
                let response = app.post_new_github().await;
                (
                    response.status().as_u16(),
                    sent.elapsed(),
                    response.headers().contains_key("retry-after"),
                )
            }
        })
        .collect();
    let answers = futures_util::future::join_all(stalled).await;
    for (status, took, retry_after) in &answers {
        assert_eq!(
            *status, 503,
            "an event that cannot be stored is never acknowledged"
        );
        assert!(*retry_after);
        assert!(*took < ANSWER_WITHIN, "answered after {took:?}");
    }
    let stalled_for = started.elapsed();
    assert!(stalled_for < ANSWER_WITHIN);

    locker.execute("ROLLBACK").await.unwrap();
    let mut acked = 1;
    app.wait_until_accepting().await;
    acked += 1;
    let stored = app.count("SELECT count(*) FROM events").await;
    assert_eq!(stored, acked, "only acknowledged events were stored");
    let delivered = sink.wait_for(acked as usize, Duration::from_secs(30)).await;
    assert_eq!(delivered.len(), acked as usize);
    let slowest = answers.iter().map(|(_, took, _)| *took).max().unwrap();
    figures(
        "stalled-database",
        &[
            ("requests_while_locked", answers.len().to_string()),
            ("answered_503", answers.len().to_string()),
            ("slowest_answer", format!("{slowest:?}")),
            ("acked", acked.to_string()),
            ("delivered", delivered.len().to_string()),
        ],
    );
    app.stop().await;
}
