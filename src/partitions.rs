//! Keeps the day partitions of `events` created ahead of time (src/store/partitions.rs), so an
//! event always lands in its day's partition, which retention can later drop whole. A day
//! that has no partition yet still takes events (in the default partition); they are then
//! purged row by row instead.

use crate::store::Store;
use crate::store::partitions::days_to_create;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// Days ahead of today that have their partition: a week of slack should every process stop
/// creating them (creation runs hourly in each, serialized in Postgres).
const DAYS_AHEAD: u32 = 7;
/// How often each process checks.
const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Creates today's partition and the next [`DAYS_AHEAD`] days' where missing; answers how many
/// it created. One that cannot be created now (the lock on `events` was busy) is logged and
/// left for the next check.
pub async fn create_ahead(store: &Store) -> usize {
    let partitions = match store.event_partitions().await {
        Ok(partitions) => partitions,
        Err(err) => {
            tracing::warn!(error = %err, "listing the partitions of events failed; retrying later");
            return 0;
        }
    };
    let today = OffsetDateTime::now_utc().date();
    let mut created = 0;
    for day in days_to_create(&partitions, today, DAYS_AHEAD + 1) {
        match store.create_event_partition(day).await {
            Ok(name) => {
                tracing::info!(partition = %name, "created a day partition of events");
                created += 1;
            }
            Err(err) => {
                tracing::warn!(%day, error = %err, "creating a day partition of events failed; retrying later")
            }
        }
    }
    created
}

/// Runs [`create_ahead`] now and then hourly, until `shutdown`.
pub async fn keep_ahead(store: Store, shutdown: CancellationToken) {
    loop {
        create_ahead(&store).await;
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
