//! One worker per destination: claims due deliveries as slots free up, makes each attempt,
//! and hands the outcome to the finisher. Respects the destination's concurrency, rate limit
//! and circuit breaker, so one slow or dead destination never holds up another.

use super::circuit::{CircuitBreaker, Permit, Transition};
use super::finisher::Finisher;
use super::inline::{InlineDelivery, InlineLane};
use super::log::DestinationLog;
use super::policy::{self, Outcome, RetryPolicy, Step};
use super::rate_limit::RateLimiter;
use super::request::{Attempt, AttemptResult};
use super::reshape::{DestinationTransforms, Prepared};
use super::signing::SigningKey;
use super::targets::Target;
use crate::activity::Activity;
use crate::config::DestinationConfig;
use crate::metrics::DestinationMetrics;
use crate::store::{AttemptRecord, ClaimedDelivery, NextState, Store};
use crate::transform::Reshaped;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Most deliveries claimed in one statement.
const CLAIM_BATCH: usize = 64;
/// The safety-net poll when no wake-up arrives.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How long in-flight attempts may finish at shutdown before they are handed back.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// A lease outlives the attempt's own timeout by this much.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// Everything one destination's worker needs.
pub struct DestinationWorker {
    pub destination: Arc<DestinationConfig>,
    pub signing_key: Option<SigningKey>,
    pub retry: RetryPolicy,
    pub store: Store,
    /// Where its deliveries are handed over.
    pub target: Target,
    pub circuit: Arc<CircuitBreaker>,
    /// Counts attempts for the console's overview.
    pub activity: Activity,
    /// Its attempt and circuit metrics.
    pub metrics: DestinationMetrics,
    /// Throttles this destination's log lines.
    pub log: DestinationLog,
    pub limiter: Option<RateLimiter>,
    /// The transforms of the connections to this destination, if any has one.
    pub transforms: Option<DestinationTransforms>,
    pub wake: Arc<Notify>,
    pub finisher: Finisher,
    /// Deliveries ingest in this process hands over directly, when it ingests too.
    pub inline: Option<InlineLane>,
    pub shutdown: CancellationToken,
}

/// The lease of a delivery claimed from the table: its attempt's timeout plus a margin.
fn claim_lease(destination: &DestinationConfig) -> Duration {
    Duration::from_millis(destination.timeout_ms) + LEASE_MARGIN
}

/// The lease of a delivery handed over by ingest: up to one attempt's timeout to wait for a
/// free slot, then a claim's lease. One whose lease no longer covers a whole attempt when a
/// slot frees is handed back to the table instead.
pub fn inline_lease(destination: &DestinationConfig) -> Duration {
    Duration::from_millis(destination.timeout_ms) + claim_lease(destination)
}

/// The free slots a busy worker waits for before it claims: a quarter of its concurrency, at
/// most a full batch.
fn busy_claim_floor(concurrency: usize) -> usize {
    (concurrency / 4).clamp(1, CLAIM_BATCH)
}

/// What ended a worker's idle wait.
enum Wakeup {
    /// A delivery ingest handed over, to start (boxed: the other kinds carry nothing).
    Handed(Box<InlineDelivery>),
    /// Somebody announced deliveries in the table.
    Woken,
    /// One of its attempts finished: a slot is free.
    AttemptFinished,
    /// The wait's deadline or the poll interval passed.
    Timer,
}

impl Wakeup {
    /// Whether it may have made deliveries due in the table: a wake-up (deliveries committed
    /// pending, handed back, reclaimed or replayed; for an ordered destination an attempt's
    /// outcome written, see [`DestinationWorker::wake_when_recorded`]), the poll interval
    /// (retries come due unannounced), the end of a circuit's wait.
    fn may_have_made_due(&self) -> bool {
        matches!(self, Wakeup::Woken | Wakeup::Timer)
    }

    /// The delivery handed over, if that is what ended the wait.
    fn handed(self) -> Option<InlineDelivery> {
        match self {
            Wakeup::Handed(inline) => Some(*inline),
            _ => None,
        }
    }
}

/// The attempts a worker has running, bounded by the destination's concurrency.
struct Running {
    slots: Arc<Semaphore>,
    ids: Arc<Mutex<HashSet<Uuid>>>,
    attempts: JoinSet<()>,
}

impl DestinationWorker {
    /// Runs until shutdown, then lets in-flight attempts finish (bounded) and hands back the
    /// rest.
    pub async fn run(mut self) {
        let mut inline = self.inline.take();
        let this = Arc::new(self);
        let mut running = Running {
            slots: Arc::new(Semaphore::new(this.destination.concurrency as usize)),
            ids: Arc::new(Mutex::new(HashSet::new())),
            attempts: JoinSet::new(),
        };
        let mut handed = None;
        // Whether the table may hold due deliveries: a claim is made only then. Claiming after
        // every finished attempt would cost a statement per few deliveries even when ingest
        // hands them all over inline and the table holds none.
        let mut table_due = true;
        while !this.shutdown.is_cancelled() {
            while running.attempts.try_join_next().is_some() {}
            this.metrics.circuit(this.circuit.state());
            let permit = this.circuit.permit(Instant::now());
            if let Some(lane) = &mut inline {
                let allowed = matches!(permit, Permit::Allowed);
                lane.set_open(allowed && this.limiter.is_none());
                let gave_back = this
                    .take_inline(&mut running, lane, handed.take(), allowed)
                    .await;
                table_due |= gave_back;
            }
            let free = running.slots.available_permits();
            let limit = match permit {
                Permit::Allowed if free < this.claim_floor(&running) => 0,
                Permit::Allowed => free.min(CLAIM_BATCH),
                Permit::Probe => 1.min(free),
                Permit::Wait(until) => {
                    // A delivery handed over meanwhile wakes the loop, which hands it back.
                    let wakeup = this.idle(&mut running, inline.as_mut(), Some(until)).await;
                    table_due |= wakeup.may_have_made_due();
                    handed = wakeup.handed();
                    continue;
                }
            };
            if limit == 0 || !table_due {
                let wakeup = this.idle(&mut running, inline.as_mut(), None).await;
                table_due |= wakeup.may_have_made_due();
                handed = wakeup.handed();
                continue;
            }
            match this
                .store
                .claim_deliveries(
                    &this.destination.id,
                    limit as u32,
                    claim_lease(&this.destination),
                    this.destination.dead_head_blocks(),
                    this.transforms.is_some(),
                )
                .await
            {
                // Only an empty claim says nothing is due: a short one may have been cut by
                // the claim's byte budget.
                Ok(claimed) if claimed.is_empty() => table_due = false,
                Ok(claimed) => {
                    for delivery in claimed {
                        Self::start(&this, &mut running, delivery).await;
                    }
                }
                Err(err) => {
                    tracing::warn!(destination = %this.destination.id, error = %err, "claim failed");
                    let retry_at = Instant::now() + Duration::from_secs(1);
                    let wakeup = this
                        .idle(&mut running, inline.as_mut(), Some(retry_at))
                        .await;
                    handed = wakeup.handed();
                }
            }
        }
        let mut unstarted: Vec<InlineDelivery> = handed.into_iter().collect();
        unstarted.extend(inline.as_mut().map(InlineLane::close).unwrap_or_default());
        this.drain(running, unstarted).await;
    }

    /// The fewest free slots worth a claim while attempts run: a claim costs Postgres about
    /// as much for one delivery as for a dozen, so with a fast destination claiming as each
    /// slot frees would cost a statement per delivery or two. An idle worker claims at once.
    fn claim_floor(&self, running: &Running) -> usize {
        if running.attempts.is_empty() {
            1
        } else {
            busy_claim_floor(self.destination.concurrency as usize)
        }
    }

    /// Starts the deliveries ingest handed over (`first`, then what waits in the lane) while
    /// the circuit allows it and their lease leaves time for a whole attempt; hands the others
    /// back to the table (answering whether it did).
    async fn take_inline(
        self: &Arc<Self>,
        running: &mut Running,
        lane: &mut InlineLane,
        first: Option<InlineDelivery>,
        allowed: bool,
    ) -> bool {
        // While allowed, take only what free slots can start at once, so the lease check
        // holds when the attempt starts; otherwise take everything, to hand it back.
        let room = if allowed {
            running
                .slots
                .available_permits()
                .saturating_sub(usize::from(first.is_some()))
        } else {
            usize::MAX
        };
        let waiting = std::iter::from_fn(|| lane.try_next()).take(room);
        let handed: Vec<InlineDelivery> = first.into_iter().chain(waiting).collect();
        let timeout = Duration::from_millis(self.destination.timeout_ms);
        let mut give_back = Vec::new();
        for inline in handed {
            let time_left = inline.lease_ends.saturating_duration_since(Instant::now());
            if allowed && time_left > timeout + LEASE_MARGIN / 2 {
                Self::start(self, running, inline.delivery).await;
            } else {
                give_back.push(inline.delivery.id);
            }
        }
        self.release(&give_back).await;
        !give_back.is_empty()
    }

    /// Starts one attempt once a slot is free.
    async fn start(this: &Arc<Self>, running: &mut Running, delivery: ClaimedDelivery) {
        let permit = running
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        running
            .ids
            .lock()
            .expect("not poisoned")
            .insert(delivery.id);
        let (worker, ids) = (this.clone(), running.ids.clone());
        // Boxed: tokio copies a task's future when spawning it, when it finishes and when its
        // output is read; boxed, each copy is a pointer instead of the attempt's 2 KiB.
        running.attempts.spawn(Box::pin(async move {
            let id = delivery.id;
            worker.attempt(delivery).await;
            ids.lock().expect("not poisoned").remove(&id);
            drop(permit);
        }));
    }

    /// Whom the finisher wakes once an attempt's outcome is written: this worker, when its
    /// destination is ordered (the key's next delivery becomes due only then).
    fn wake_when_recorded(&self) -> Option<Arc<Notify>> {
        self.destination
            .ordering
            .is_some()
            .then(|| self.wake.clone())
    }

    /// Waits for a wake-up, a hand-over (when a slot is free), a finished attempt, `until`
    /// (or the poll interval), or shutdown.
    async fn idle(
        &self,
        running: &mut Running,
        inline: Option<&mut InlineLane>,
        until: Option<Instant>,
    ) -> Wakeup {
        let deadline = until.unwrap_or_else(|| Instant::now() + POLL_INTERVAL);
        let slot_free = running.slots.available_permits() > 0;
        let (has_lane, lane) = match inline {
            Some(lane) => (true, Some(lane)),
            None => (false, None),
        };
        let handed = async {
            match lane {
                Some(lane) => lane.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(inline) = handed, if has_lane && slot_free => Wakeup::Handed(Box::new(inline)),
            () = self.wake.notified(), if until.is_none() => Wakeup::Woken,
            Some(_) = running.attempts.join_next(), if !running.attempts.is_empty() => Wakeup::AttemptFinished,
            () = tokio::time::sleep_until(deadline.into()) => Wakeup::Timer,
            // The loop checks for shutdown itself.
            () = self.shutdown.cancelled() => Wakeup::Timer,
        }
    }

    async fn drain(&self, mut running: Running, unstarted: Vec<InlineDelivery>) {
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while running.attempts.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.attempts.shutdown().await;
        }
        let mut unfinished: Vec<Uuid> = running.ids.lock().expect("not poisoned").drain().collect();
        unfinished.extend(unstarted.into_iter().map(|inline| inline.delivery.id));
        self.release(&unfinished).await;
    }

    /// Hands claimed deliveries that were not attempted back to the queue.
    async fn release(&self, ids: &[Uuid]) {
        if !ids.is_empty()
            && let Err(err) = self.store.release_deliveries(ids).await
        {
            tracing::warn!(error = %err, count = ids.len(),
                    "could not hand back deliveries; their leases will expire and they will be retried");
        }
    }

    /// Makes one attempt and reports how it went.
    async fn attempt(&self, delivery: ClaimedDelivery) {
        if let Some(limiter) = &self.limiter {
            limiter.wait().await;
        }
        let started_at = OffsetDateTime::now_utc();
        let destination = &self.destination;
        let prepared = match &self.transforms {
            Some(transforms) => transforms.prepare(&delivery).await,
            None => Prepared::Unchanged,
        };
        let reshaped = match prepared {
            Prepared::Unchanged => Reshaped::default(),
            Prepared::Reshaped(reshaped) => reshaped,
            Prepared::Skip => return self.skip(&delivery, started_at).await,
            Prepared::Failed(why) => {
                let failed = AttemptResult {
                    outcome: Outcome::Transform(why),
                    duration: Duration::ZERO,
                    response_excerpt: None,
                };
                return self.finish(&delivery, started_at, failed).await;
            }
        };
        let result = self
            .target
            .deliver(
                &Attempt {
                    path: reshaped.path.as_deref(),
                    body: reshaped.body.as_ref().unwrap_or(&delivery.body),
                    content_type: reshaped
                        .content_type
                        .as_deref()
                        .or(delivery.content_type.as_deref()),
                    headers: &reshaped.headers,
                    event_id: delivery.event_id,
                    source_id: &delivery.source_id,
                    provider_event_id: &delivery.provider_event_id,
                    event_type: delivery.event_type.as_deref(),
                    attempt: delivery.attempt as u32,
                    delivery_id: delivery.id,
                    signing_key: self.signing_key.as_ref(),
                    timeout: Duration::from_millis(destination.timeout_ms),
                },
                started_at.unix_timestamp(),
            )
            .await;
        self.finish(&delivery, started_at, result).await;
    }

    /// Decides and records what follows an attempt.
    async fn finish(
        &self,
        delivery: &ClaimedDelivery,
        started_at: OffsetDateTime,
        result: AttemptResult,
    ) {
        let destination = &self.destination;
        let step = self
            .retry
            .next_step(delivery.attempt as u32, &result.outcome, policy::jitter());
        let circuit = if result.outcome.counts_against_destination() {
            self.circuit.record_failure(Instant::now())
        } else if let Outcome::Transform(_) = result.outcome {
            // The destination was not asked: its circuit learns nothing.
            Transition::Unchanged
        } else {
            self.circuit.record_success()
        };
        self.log
            .attempt(&destination.id, delivery, &result.outcome, &step, circuit);
        let next = match step {
            Step::Delivered => NextState::Delivered,
            Step::Retry { after } => NextState::RetryAt(OffsetDateTime::now_utc() + after),
            Step::Dead { .. } => NextState::Dead,
        };
        self.metrics.attempt(next, result.duration);
        self.activity.delivery(
            &destination.id,
            result.outcome.is_success(),
            result.duration,
        );
        tracing::debug!(destination = %destination.id, delivery = %delivery.id, attempt = delivery.attempt, outcome = %result.outcome, ?next, "attempt finished");
        self.finisher
            .record(
                AttemptRecord {
                    delivery_id: delivery.id,
                    attempt: delivery.attempt,
                    started_at,
                    duration: result.duration,
                    status: result.outcome.status(),
                    error: match &step {
                        Step::Dead { reason } => Some(reason.clone()),
                        _ => result.outcome.error(),
                    },
                    response_excerpt: result.response_excerpt,
                    next,
                },
                self.wake_when_recorded(),
            )
            .await;
    }

    /// The connection's transform returned `null`: the delivery ends as filtered, its
    /// attempt recorded as the transform's choice; the destination is not asked.
    async fn skip(&self, delivery: &ClaimedDelivery, started_at: OffsetDateTime) {
        let next = NextState::Filtered;
        self.metrics.outcome(next);
        tracing::debug!(destination = %self.destination.id, delivery = %delivery.id, "transform skipped the delivery");
        self.finisher
            .record(
                AttemptRecord {
                    delivery_id: delivery.id,
                    attempt: delivery.attempt,
                    started_at,
                    duration: Duration::ZERO,
                    status: None,
                    error: Some("filtered: the transform returned null".into()),
                    response_excerpt: None,
                    next,
                },
                self.wake_when_recorded(),
            )
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_worker_claims_once_a_quarter_of_its_slots_is_free() {
        assert_eq!(busy_claim_floor(32), 8);
        assert_eq!(
            busy_claim_floor(1),
            1,
            "a single slot is claimed as it frees"
        );
        assert_eq!(busy_claim_floor(3), 1);
        assert_eq!(
            busy_claim_floor(1_000),
            CLAIM_BATCH,
            "never more than a batch"
        );
    }
}
