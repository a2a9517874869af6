//! Runs bulk replays: claims a running replay with a lease (so two processes never run the
//! same one), re-queues its matching deliveries batch by batch from the stored cursor (so a
//! restart resumes where it stopped) and wakes the delivery workers after each batch.

use crate::ingest::writer::CommitHook;
use crate::store::{BatchOutcome, ClaimedReplay, Store, StoreError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Deliveries re-queued per transaction.
const BATCH: u32 = 500;
/// A replay whose runner stopped without a word is taken over after this.
const LEASE: Duration = Duration::from_secs(30);
/// How often idle runners look for new replays.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Consecutive failed batches after which a replay is marked failed.
const MAX_FAILURES: u32 = 5;

/// The background task that carries running replays out.
pub struct ReplayRunner {
    pub store: Store,
    /// Configured destination ids: only deliveries to these are replayed.
    pub destinations: Vec<String>,
    /// Wakes the delivery workers (here and in other processes) with the number of new
    /// deliveries.
    pub wake: CommitHook,
    pub shutdown: CancellationToken,
}

impl ReplayRunner {
    /// Runs replays one at a time until shutdown; a replay interrupted by shutdown is
    /// handed back for the next process to resume.
    pub async fn run(self) {
        while !self.shutdown.is_cancelled() {
            match self.store.claim_replay(LEASE).await {
                Ok(Some(replay)) => {
                    self.carry_out(replay).await;
                    continue;
                }
                Ok(None) => {}
                Err(err) => tracing::debug!(error = %err, "cannot look for replays now"),
            }
            self.pause(POLL_INTERVAL).await;
        }
    }

    async fn carry_out(&self, mut replay: ClaimedReplay) {
        tracing::info!(replay = %replay.id, cursor = ?replay.cursor, "running bulk replay");
        let mut failures = 0;
        loop {
            if self.shutdown.is_cancelled() {
                if let Err(err) = self.store.release_replay(&replay).await {
                    tracing::warn!(replay = %replay.id, error = %err, "lease not handed back; it will expire");
                }
                return;
            }
            match self
                .store
                .replay_batch(&mut replay, &self.destinations, BATCH, LEASE)
                .await
            {
                Ok(BatchOutcome::Replayed(count)) => {
                    failures = 0;
                    (self.wake)(count as usize);
                }
                Ok(BatchOutcome::Completed) => {
                    tracing::info!(replay = %replay.id, "bulk replay completed");
                    return;
                }
                Ok(BatchOutcome::LeaseLost) => {
                    tracing::warn!(replay = %replay.id, "another process took this replay over");
                    return;
                }
                Err(err) => {
                    // An outage is waited out; only real failures count towards giving up.
                    if !matches!(err, StoreError::Unavailable(_)) {
                        failures += 1;
                    }
                    tracing::warn!(replay = %replay.id, error = %err, failures, "replay batch failed");
                    if failures >= MAX_FAILURES {
                        let reason = format!("gave up after {failures} failed batches: {err}");
                        if let Err(err) = self.store.fail_replay(&replay, &reason).await {
                            tracing::warn!(replay = %replay.id, error = %err, "could not mark the replay failed");
                        }
                        return;
                    }
                    self.pause(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn pause(&self, duration: Duration) {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.shutdown.cancelled() => {}
        }
    }
}
