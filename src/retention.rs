//! Retention: delivered events older than `[retention] days` are deleted in small batches,
//! with a pause between batches, so no statement holds many locks or runs long. Events with
//! a pending, in-flight or dead delivery are kept whatever their age.

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

/// Runs a purge pass now and then every few minutes, until `shutdown`.
pub async fn run(store: Store, days: u32, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            result = purge_expired(&store, days) => match result {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, days, "purged expired delivered events"),
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
