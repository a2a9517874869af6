//! Retention: delivered events older than `[retention] days` are deleted. A day partition of
//! `events` whose every event has expired is dropped whole (src/store/partitions.rs): its
//! final deliveries, their attempts and its keys are deleted in small batches first, then its
//! stragglers (events with a delivery still pending, in flight or dead) move to the default
//! partition and the partition is dropped. Expired events outside day partitions (stragglers,
//! an upgraded database's table from before partitioning) are deleted row by row, in small
//! batches, once their deliveries are all final. Batches pause between them, so no statement
//! holds many locks or runs long. Events with a pending, in-flight or dead delivery are kept
//! whatever their age. On a server whose autovacuum is off, retention vacuums what it deleted
//! from itself, or the tables would grow without bound (bench/RESULTS.md: +0.2 GiB per day's
//! cycle at 3 million events).

use crate::store::partitions::{self, ExpiredPartition};
use crate::store::{Store, StoreError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Events deleted (or cleared ahead of their partition's drop) per statement.
const BATCH: i64 = 1_000;
/// Breathing room between two full batches: it sets retention's pace, at most ~2,000 events a
/// second (a day of 20 million events in under three hours). Retention has all day to drop
/// a day, while ingest competes with it for the same CPUs: flat out (200 ms, ~4,600 events/s)
/// its clearing cost the ingest role up to 18 % of its rate at 20 million events on two cores
/// (bench/RESULTS.md).
const PAUSE: Duration = Duration::from_millis(450);
/// How often a purge pass runs.
const INTERVAL: Duration = Duration::from_secs(10 * 60);

/// One purge pass: drops every expired day partition and deletes every other expired, fully
/// delivered event; answers how many events went.
pub async fn purge_expired(store: &Store, days: u32) -> Result<u64, StoreError> {
    let cutoff = OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let mut partitions = store.event_partitions().await?;
    let mut total = 0;
    for expired in partitions::expired(&partitions, cutoff) {
        match drop_partition(store, &expired).await {
            Ok(dropped) => {
                total += dropped;
                partitions.retain(|p| p.name != expired.name);
            }
            // Most likely the lock on `events` was not free soon enough: next pass.
            Err(err) => tracing::warn!(
                partition = %expired.name, error = %err,
                "dropping an expired partition failed; retrying on the next pass"
            ),
        }
    }
    let cutoff_id = crate::store::first_id_at(cutoff);
    let below = partitions::first_day_partition_start(&partitions)
        .map_or(cutoff_id, |start| start.min(cutoff_id));
    total += purge_rows_below(store, below).await?;
    Ok(total)
}

/// Clears an expired partition batch by batch, then drops it; answers how many events were
/// dropped with it (its stragglers moved to the default partition are not counted).
async fn drop_partition(store: &Store, partition: &ExpiredPartition) -> Result<u64, StoreError> {
    let mut after = Uuid::nil();
    let mut events = 0;
    loop {
        let batch = store.clear_expired_batch(partition, after, BATCH).await?;
        events += u64::try_from(batch.events).unwrap_or(0);
        match batch.last {
            Some(last) if batch.events == BATCH => after = last,
            _ => break,
        }
        tokio::time::sleep(PAUSE).await;
    }
    let moved = store.drop_expired_partition(partition).await?;
    let dropped = events.saturating_sub(moved);
    tracing::info!(partition = %partition.name, dropped, stragglers = moved, "dropped an expired partition");
    Ok(dropped)
}

/// Deletes every fully delivered event with an id below `below`, batch by batch.
async fn purge_rows_below(store: &Store, below: Uuid) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let deleted = store.purge_delivered_events(below, BATCH).await?;
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
