//! Retention: delivered events older than `[retention] days` are deleted in small batches,
//! with a pause between batches, so no statement holds many locks or runs long. Events with
//! a pending, in-flight or dead delivery are kept whatever their age. On a server whose
//! autovacuum is off, retention vacuums what it deleted from itself, or the tables would grow
//! without bound (bench/RESULTS.md: +0.2 GiB per day's cycle at 3 million events).

use crate::store::{Store, StoreError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// Events deleted per statement.
const BATCH: i64 = 1_000;
/// Breathing room between two full batches.
const PAUSE: Duration = Duration::from_millis(200);
/// How often a purge pass runs.
const INTERVAL: Duration = Duration::from_secs(10 * 60);

/// One purge pass: deletes every expired, fully delivered event, batch by batch; answers
/// how many were deleted.
pub async fn purge_expired(store: &Store, days: u32) -> Result<u64, StoreError> {
    let cutoff = OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let mut total = 0;
    loop {
        let deleted = store.purge_delivered_events(cutoff, BATCH).await?;
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Stands in for autovacuum when the server runs without it: vacuums the tables whose dead
/// rows have piled up, so the space purged events took is reused.
pub async fn vacuum_unless_autovacuum_runs(store: &Store) {
    let vacuumed = match store.autovacuum_runs().await {
        Ok(true) => return,
        Ok(false) => store.vacuum_piled_up_tables().await,
        Err(err) => Err(err),
    };
    match vacuumed {
        Ok(tables) if tables.is_empty() => {}
        Ok(tables) => tracing::info!(
            ?tables,
            "autovacuum is off: vacuumed the tables retention deleted from"
        ),
        Err(err) => {
            tracing::warn!(error = %err, "vacuum after retention failed; retrying after the next purge")
        }
    }
}

/// Runs a purge pass now and then every few minutes, until `shutdown`.
pub async fn run(store: Store, days: u32, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            result = purge_expired(&store, days) => match result {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, days, "purged expired delivered events");
                    vacuum_unless_autovacuum_runs(&store).await;
                }
                Err(err) => tracing::warn!(error = %err, "retention purge failed; retrying later"),
            },
            () = shutdown.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
