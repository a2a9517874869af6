//! Group commit: requests queue their event on a bounded channel; writer tasks take whatever
//! is queued (up to a cap), store it with one statement and one commit, and answer each request
//! through its own oneshot. A lone request is written at once; a burst shares one fsync.

use crate::store::{InsertOutcome, NewEvent, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Sizing of the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// Events that may wait for a writer; beyond this ingest answers 503.
    pub queue_capacity: usize,
    /// Most events in one statement.
    pub max_batch: usize,
    /// Most body bytes in one statement.
    pub max_batch_bytes: usize,
    /// Writer tasks, i.e. commits that may be in flight at once.
    pub writers: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            queue_capacity: 8192,
            max_batch: 512,
            max_batch_bytes: 16 * 1024 * 1024,
            writers: 2,
        }
    }
}

/// Why an event could not be committed. Every variant means "not stored: try again later".
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("the commit queue is full")]
    Overloaded,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("hookgate is shutting down")]
    ShuttingDown,
    #[error("no commit confirmation within {0:?}")]
    TimedOut(Duration),
}

/// Called after each successful commit with the number of new events in it.
pub type CommitHook = Arc<dyn Fn(usize) + Send + Sync>;

struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<InsertOutcome, CommitError>>,
}

/// The sending side, cloned into every ingest handler.
#[derive(Clone)]
pub struct CommitWriter {
    sender: mpsc::Sender<Job>,
}

/// How long a request waits for its commit before it gives up with 503. Longer than the
/// store's own timeouts, so in practice the store answers first.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

impl CommitWriter {
    /// Starts the writer tasks on the current runtime. They drain the queue and stop once
    /// `shutdown` is cancelled; await the returned set to know that every queued event has
    /// been answered.
    pub fn spawn(
        store: Store,
        options: WriterOptions,
        on_commit: CommitHook,
        shutdown: CancellationToken,
    ) -> (CommitWriter, JoinSet<()>) {
        let (sender, receiver) = mpsc::channel(options.queue_capacity);
        let receiver = Arc::new(Mutex::new(receiver));
        let mut tasks = JoinSet::new();
        for _ in 0..options.writers.max(1) {
            let writer = WriterTask {
                store: store.clone(),
                receiver: receiver.clone(),
                options,
                on_commit: on_commit.clone(),
                shutdown: shutdown.clone(),
            };
            tasks.spawn(writer.run());
        }
        (CommitWriter { sender }, tasks)
    }

    /// Queues `event` and waits until it is durably committed (or found to be a duplicate).
    pub async fn commit(&self, event: NewEvent) -> Result<InsertOutcome, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .try_send(Job { event, reply })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => CommitError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => CommitError::ShuttingDown,
            })?;
        match tokio::time::timeout(REPLY_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CommitError::ShuttingDown),
            Err(_) => Err(CommitError::TimedOut(REPLY_TIMEOUT)),
        }
    }
}

struct WriterTask {
    store: Store,
    receiver: Arc<Mutex<mpsc::Receiver<Job>>>,
    options: WriterOptions,
    on_commit: CommitHook,
    shutdown: CancellationToken,
}

impl WriterTask {
    async fn run(self) {
        while let Some(batch) = self.next_batch().await {
            self.write(batch).await;
        }
    }

    /// Waits for one job, then takes whatever else is already queued, within the caps.
    /// `None` once shutdown was requested and the queue is empty.
    async fn next_batch(&self) -> Option<Vec<Job>> {
        let mut receiver = self.receiver.lock().await;
        let first = tokio::select! {
            biased;
            job = receiver.recv() => job,
            () = self.shutdown.cancelled() => {
                receiver.close();
                receiver.recv().await
            }
        }?;
        let mut bytes = first.event.body.len();
        let mut batch = vec![first];
        while batch.len() < self.options.max_batch && bytes < self.options.max_batch_bytes {
            match receiver.try_recv() {
                Ok(job) => {
                    bytes += job.event.body.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        Some(batch)
    }

    async fn write(&self, batch: Vec<Job>) {
        let (events, replies): (Vec<NewEvent>, Vec<_>) =
            batch.into_iter().map(|job| (job.event, job.reply)).unzip();
        crate::metrics::commit_batch(events.len());
        let mut result = self.store.insert_events(&events).await;
        if let Err(StoreError::Unavailable(err)) = &result {
            // A pooled connection may have died with a Postgres restart, or Postgres broke a
            // deadlock by aborting this batch: one retry. Re-running is safe: events stored
            // meanwhile come back as duplicates.
            tracing::warn!(error = %err, batch = events.len(), "commit failed; retrying once");
            result = self.store.insert_events(&events).await;
        }
        match result {
            Ok(outcomes) => {
                let accepted = outcomes
                    .iter()
                    .filter(|o| matches!(o, InsertOutcome::Accepted(_)))
                    .count();
                (self.on_commit)(accepted);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, batch = events.len(), "commit failed; answering 503");
                let message = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(CommitError::Unavailable(message.clone())));
                }
            }
        }
    }
}
