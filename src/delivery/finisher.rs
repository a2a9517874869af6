//! Records attempt outcomes in batches: workers hand records over a channel and one task
//! writes whatever has gathered in one statement, then wakes the workers that asked to hear
//! of it (an ordered destination's: the next delivery of a key is due only once its
//! predecessor's outcome is written).

use crate::store::{AttemptRecord, AttemptWriter, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// Most records written in one statement.
const MAX_BATCH: usize = 256;
/// A batch smaller than this waits [`LINGER`] once for more records before it is written:
/// each statement has a fixed cost (parsing, planning, a round trip) that a dozen records
/// cannot carry, and nothing waits for a record to be written (the attempt's slot is already
/// free; the delivery's lease covers the wait many times over).
const LINGER_BELOW: usize = 64;
const LINGER: Duration = Duration::from_millis(3);
/// Write attempts for one batch before giving up on it (its leases then expire and the
/// deliveries are attempted again: at least once, never lost).
const MAX_WRITE_TRIES: u32 = 30;

/// The sending side, cloned into every worker.
#[derive(Clone)]
pub struct Finisher {
    sender: mpsc::Sender<Finished>,
}

/// One record, and whom to wake once it is written.
struct Finished {
    record: AttemptRecord,
    wake: Option<Arc<Notify>>,
}

impl Finisher {
    /// Starts the writer task; it ends once every `Finisher` clone is dropped and the queue
    /// is written.
    pub fn spawn(store: Store) -> (Finisher, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
        (
            Finisher { sender },
            tokio::spawn(write_batches(store.attempt_writer(), receiver)),
        )
    }

    /// Queues one record (waits when the writer is behind); `wake` is notified once it is
    /// written.
    pub async fn record(&self, record: AttemptRecord, wake: Option<Arc<Notify>>) {
        if self.sender.send(Finished { record, wake }).await.is_err() {
            tracing::error!(
                "attempt finisher stopped; the lease will expire and the delivery retried"
            );
        }
    }
}

async fn write_batches(mut writer: AttemptWriter, mut receiver: mpsc::Receiver<Finished>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        take_waiting(&mut receiver, &mut batch);
        if batch.len() < LINGER_BELOW {
            tokio::time::sleep(LINGER).await;
            take_waiting(&mut receiver, &mut batch);
        }
        let (records, wakes): (Vec<AttemptRecord>, Vec<Option<Arc<Notify>>>) = batch
            .into_iter()
            .map(|finished| (finished.record, finished.wake))
            .unzip();
        write_with_retries(&mut writer, &records).await;
        for wake in wakes.into_iter().flatten() {
            wake.notify_one();
        }
    }
}

/// Adds the records waiting now to `batch`, up to [`MAX_BATCH`].
fn take_waiting(receiver: &mut mpsc::Receiver<Finished>, batch: &mut Vec<Finished>) {
    while batch.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(record) => batch.push(record),
            Err(_) => break,
        }
    }
}

async fn write_with_retries(writer: &mut AttemptWriter, batch: &[AttemptRecord]) {
    let mut delay = Duration::from_millis(100);
    for tries in 1..=MAX_WRITE_TRIES {
        match writer.finish_deliveries(batch).await {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(error = %err, tries, records = batch.len(), "recording attempts failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    tracing::error!(
        records = batch.len(),
        "gave up recording attempts; leases will expire and the deliveries run again"
    );
}
