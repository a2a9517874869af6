//! The delivery queue's statements plan once per connection (generic plans), so a plan made
//! while the statistics describe a large backlog stays in use: it must still read only the
//! rows a claim takes, never a whole table or index. Measured with Postgres' own counters of
//! rows read (`pg_stat_user_tables`), which a plan joining the claim to a whole index (as a
//! merge or hash join would) multiplies by the table's size.

use crate::helpers::*;
use hookgate::store::Store;
use sqlx::PgPool;
use std::time::Duration;

/// Deliveries already delivered (older than the backlog) and pending (the backlog).
const DELIVERED: usize = 3_000;
const PENDING: usize = 3_000;
const CLAIMS: usize = 20;
const PER_CLAIM: u32 = 2;

/// Rows read so far from `deliveries` and every partition of `events`, by sequential and
/// index scans, as Postgres counts them.
async fn rows_read(db: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)), 0)::int8
         FROM pg_stat_user_tables WHERE relname = 'deliveries' OR relname LIKE 'events%'",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// Waits until every backend has reported the counters of what it ran: an idle backend
/// reports within a second of its last statement.
async fn settled() {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
}

/// The rows read since `before`, once at least `least` are reported: a backend reports as it
/// exits, or within ten seconds of going idle when it reported less than a second earlier.
async fn rows_read_since(db: &PgPool, before: i64, least: i64) -> i64 {
    for _ in 0..60 {
        let read = rows_read(db).await - before;
        if read >= least {
            return read;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the claims' reads were never reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_read_what_they_claim_however_large_the_backlog_looked_when_planned() {
    let database = create_database(&server_url()).await;
    let store = Store::connect_lazy(&database.url, 2).unwrap();
    store.migrate().await.unwrap();
    let queue_of = |count: usize| -> Vec<_> {
        (0..count)
            .map(|_| queued_event(bytes::Bytes::from_static(b"{}"), None))
            .collect()
    };
    store.insert_events(&queue_of(DELIVERED)).await.unwrap();
    let db = PgPool::connect(&database.url).await.unwrap();
    sqlx::query("UPDATE deliveries SET state = 'delivered'")
        .execute(&db)
        .await
        .unwrap();
    store.insert_events(&queue_of(PENDING)).await.unwrap();
    store.close().await;
    sqlx::query("ANALYZE").execute(&db).await.unwrap();
    settled().await;
    let before = rows_read(&db).await;

    let queue = Store::connect_lazy_relaxed(&database.url, 1).unwrap();
    let mut claimed = 0;
    for _ in 0..CLAIMS {
        let batch = queue
            .claim_deliveries("billing", PER_CLAIM, Duration::from_secs(30), false, false)
            .await
            .unwrap();
        assert_eq!(
            batch.len(),
            PER_CLAIM as usize,
            "the backlog has plenty due"
        );
        claimed += batch.len();
    }
    queue.close().await;
    let read = rows_read_since(&db, before, claimed as i64).await;
    assert!(
        read < (DELIVERED + PENDING) as i64,
        "{CLAIMS} claims of {PER_CLAIM} read {read} rows: a plan reads whole tables"
    );
}
