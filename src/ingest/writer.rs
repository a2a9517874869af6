//! Group commit: requests queue their event on a bounded channel; writer tasks take whatever
//! is queued (up to a cap), store it with one statement and one commit, and answer each request
//! through its thread's answer relay (one message per thread and commit, see
//! [`super::answer_relay`]). A burst shares one fsync.
//!
//! A request that finds its writer idle waits a moment (`linger`, 2 ms by default) for others
//! to share its commit. Below saturation, commits otherwise carry a few events each (2.7 at
//! 3,500 webhooks/s), and Postgres's cost per event of a statement falls steeply with its size
//! (55 µs at 2.7 events, 24 µs at 30): 2 ms cost hookgate 16 % and Postgres 20 % less CPU per
//! delivered event at that rate, for a millisecond more on the answer (bench/RESULTS.md).
//!
//! Overload is answered fast: an event is refused at once when the events already queued
//! would take longer than `max_queue_wait` to commit (see [`super::admission`]), and an event
//! that still waited past the hard deadline is answered "overloaded" without being written.

use super::admission::{Admission, QUEUE_FLOOR};
use super::answer_relay::{AnswerRelay, Outbox, Reply};
use crate::delivery::inline::{Handover, left_pending};
use crate::store::{EventWriter, InsertOutcome, NewEvent, Store, StoreError};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc};
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
    /// Writer tasks, i.e. commits that may be in flight at once. One is the default: while
    /// its commit runs the next batch gathers, and on a machine whose cores Postgres shares
    /// with hookgate, fewer and larger statements cost less CPU per event than two in flight
    /// (the ingest role ran 3–15% faster with one writer than with two in paired runs).
    pub writers: usize,
    /// Refuse at once when the queued events are expected to take longer than half of this to
    /// commit; events that waited four times this (at least 1 s) are refused unwritten.
    pub max_queue_wait: Duration,
    /// How long a writer that found the queue empty waits for more events to join the first
    /// one, unless [`LINGER_ENOUGH`] join sooner. Zero: the first one is written at once.
    pub linger: Duration,
}

/// A lingering writer stops waiting once this many events have gathered: a statement's cost
/// per event barely falls beyond it, and under a closed-loop load the answers it holds back are
/// what the next requests wait for.
const LINGER_ENOUGH: usize = 32;

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            queue_capacity: 8192,
            max_batch: 512,
            max_batch_bytes: 16 * 1024 * 1024,
            writers: 1,
            max_queue_wait: Duration::from_millis(250),
            linger: Duration::from_millis(crate::config::DEFAULT_COMMIT_LINGER_MS),
        }
    }
}

/// Why an event could not be committed. Every variant means "not stored: try again later".
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The queued events would not commit within `max_queue_wait`, the queue is full, or the
    /// event waited past the deadline: it was not written.
    #[error("overloaded: the commit queue would not drain in time")]
    Overloaded,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("hookgate is shutting down")]
    ShuttingDown,
    #[error("no commit confirmation within {0:?}")]
    TimedOut(Duration),
}

/// What a request waiting for its commit is told.
pub type CommitResult = Result<InsertOutcome, CommitError>;

/// Called after each successful commit with the number of deliveries it left pending in the
/// table, for a worker to claim: those handed straight to a local worker are not counted, so a
/// commit whose deliveries all went inline wakes nobody (no claim finds work that is not there).
pub type CommitHook = Arc<dyn Fn(usize) + Send + Sync>;

struct Job {
    event: NewEvent,
    /// The event's deliveries reserved for local workers: handed over by the writer once the
    /// commit stored the event, so that a client hanging up before its answer (which cancels
    /// its request) does not leave them waiting for their lease to run out.
    handover: Option<Handover>,
    reply: Reply,
    queued_at: Instant,
}

/// The admission state shared by the senders (who ask) and the writer tasks (who measure).
type SharedAdmission = Arc<std::sync::Mutex<Admission>>;

fn lock(admission: &SharedAdmission) -> std::sync::MutexGuard<'_, Admission> {
    admission.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sending side, cloned into every ingest handler.
#[derive(Clone)]
pub struct CommitWriter {
    sender: mpsc::Sender<Job>,
    admission: SharedAdmission,
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
        let writers = options.writers.max(1);
        let admission = Arc::new(std::sync::Mutex::new(Admission::new(
            options.max_queue_wait,
            writers,
        )));
        let mut tasks = JoinSet::new();
        for _ in 0..writers {
            let writer = WriterTask {
                events: store.event_writer(),
                receiver: receiver.clone(),
                admission: admission.clone(),
                options,
                on_commit: on_commit.clone(),
                shutdown: shutdown.clone(),
            };
            tasks.spawn(writer.run());
        }
        (CommitWriter { sender, admission }, tasks)
    }

    /// Queues `event` and waits until it is durably committed (or found to be a duplicate);
    /// `handover` is completed with the outcome by the writer itself, and the answer comes
    /// back through `relay`, the calling thread's. Answers
    /// [`CommitError::Overloaded`] at once, without queueing, when the queue is expected to
    /// take longer than `max_queue_wait` to drain.
    pub async fn commit(
        &self,
        event: NewEvent,
        handover: Option<Handover>,
        relay: &AnswerRelay,
    ) -> CommitResult {
        if !self.admits() {
            return Err(CommitError::Overloaded);
        }
        let (reply, answer) = relay.reply();
        let queued_at = Instant::now();
        self.sender
            .try_send(Job {
                event,
                handover,
                reply,
                queued_at,
            })
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

    /// Whether one more event may join the queue now. A short queue is admitted without
    /// consulting (or locking) the estimate. [`CommitWriter::commit`] asks again.
    pub fn admits(&self) -> bool {
        let queued = self.sender.max_capacity() - self.sender.capacity();
        queued <= QUEUE_FLOOR || lock(&self.admission).admits(queued, Instant::now())
    }
}

/// Jobs taken from the queue together.
struct Batch {
    jobs: Vec<Job>,
    /// Events were already waiting when the writer came for them: it is working flat out,
    /// so this batch measures capacity.
    backlogged: bool,
}

struct WriterTask {
    events: EventWriter,
    receiver: Arc<Mutex<mpsc::Receiver<Job>>>,
    admission: SharedAdmission,
    options: WriterOptions,
    on_commit: CommitHook,
    shutdown: CancellationToken,
}

impl WriterTask {
    async fn run(mut self) {
        while let Some(batch) = self.next_batch().await {
            let jobs = self.refuse_expired(batch.jobs);
            if !jobs.is_empty() {
                self.write(jobs, batch.backlogged).await;
            }
        }
    }

    /// Waits for one job, then takes whatever else is already queued, within the caps; when
    /// nothing was queued, lingers for more (see [`WriterOptions::linger`]). `None` once
    /// shutdown was requested and the queue is empty.
    async fn next_batch(&self) -> Option<Batch> {
        let mut receiver = self.receiver.lock().await;
        let (first, backlogged) = match receiver.try_recv() {
            Ok(job) => (job, true),
            Err(_) => {
                let job = tokio::select! {
                    biased;
                    job = receiver.recv() => job,
                    () = self.shutdown.cancelled() => {
                        receiver.close();
                        receiver.recv().await
                    }
                }?;
                (job, false)
            }
        };
        let linger_until = (!backlogged && !self.options.linger.is_zero())
            .then(|| tokio::time::Instant::now() + self.options.linger);
        let mut bytes = first.event.body.len();
        let mut batch = vec![first];
        while batch.len() < self.options.max_batch && bytes < self.options.max_batch_bytes {
            let job = match receiver.try_recv() {
                Ok(job) => job,
                Err(_) => match linger_until {
                    Some(until) if batch.len() < LINGER_ENOUGH => {
                        match tokio::time::timeout_at(until, receiver.recv()).await {
                            Ok(Some(job)) => job,
                            Ok(None) | Err(_) => break,
                        }
                    }
                    _ => break,
                },
            };
            bytes += job.event.body.len();
            batch.push(job);
        }
        Some(Batch {
            jobs: batch,
            backlogged,
        })
    }

    /// Answers "overloaded", unwritten, the jobs that waited in the queue past the deadline
    /// (their callers were or will soon be told 503 anyway); returns the others.
    fn refuse_expired(&self, jobs: Vec<Job>) -> Vec<Job> {
        let now = Instant::now();
        let deadline = lock(&self.admission).deadline();
        let (expired, live): (Vec<Job>, Vec<Job>) = jobs
            .into_iter()
            .partition(|job| now.saturating_duration_since(job.queued_at) > deadline);
        if !expired.is_empty() {
            tracing::warn!(
                refused = expired.len(),
                ?deadline,
                "events waited in the commit queue past the deadline; answering 503 unwritten"
            );
            let mut outbox = Outbox::default();
            for job in expired {
                outbox.put(job.reply, Err(CommitError::Overloaded));
            }
            outbox.send();
        }
        live
    }

    /// Writes `batch` in one statement and answers each job; reports the batch to the
    /// capacity estimate (as a sample when the writer was `backlogged`).
    async fn write(&mut self, batch: Vec<Job>, backlogged: bool) {
        let started = Instant::now();
        let first_queued = batch
            .iter()
            .map(|job| job.queued_at)
            .min()
            .unwrap_or(started);
        let mut events = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for job in batch {
            events.push(job.event);
            replies.push((job.reply, job.handover));
        }
        lock(&self.admission)
            .estimator()
            .batch_started(events.len(), started);
        let mut result = self.events.insert_events(&events).await;
        if let Err(StoreError::Unavailable(err)) = &result {
            // The writer's connection may have died with a Postgres restart (the retry takes a
            // fresh one), or Postgres broke a deadlock by aborting this batch: one retry. Re-running is safe: events stored
            // meanwhile come back as duplicates.
            tracing::warn!(error = %err, batch = events.len(), "commit failed; retrying once");
            result = self.events.insert_events(&events).await;
        }
        let finished = Instant::now();
        crate::metrics::commit_batch(
            events.len(),
            started.saturating_duration_since(first_queued),
            finished - started,
        );
        let sample = (backlogged && result.is_ok()).then(|| finished - started);
        lock(&self.admission)
            .estimator()
            .batch_finished(events.len(), finished, sample);
        let mut outbox = Outbox::default();
        match result {
            Ok(outcomes) => {
                (self.on_commit)(left_pending(&events, &outcomes));
                for ((reply, handover), outcome) in replies.into_iter().zip(outcomes) {
                    if let Some(handover) = handover {
                        handover.complete(outcome);
                    }
                    outbox.put(reply, Ok(outcome));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, batch = events.len(), "commit failed; answering 503");
                let message = err.to_string();
                for (reply, _given_back) in replies {
                    outbox.put(reply, Err(CommitError::Unavailable(message.clone())));
                }
            }
        }
        outbox.send();
    }
}
