//! One worker per destination: claims due deliveries as slots free up, makes each attempt,
//! and hands the outcome to the finisher. Respects the destination's concurrency, rate limit
//! and circuit breaker, so one slow or dead destination never holds up another.

use super::circuit::{CircuitBreaker, Permit};
use super::finisher::Finisher;
use super::policy::{self, RetryPolicy, Step};
use super::rate_limit::RateLimiter;
use super::request::{self, Attempt};
use super::signing::SigningKey;
use crate::config::DestinationConfig;
use crate::metrics;
use crate::store::{AttemptRecord, ClaimedDelivery, NextState, Store};
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
    pub client: reqwest::Client,
    pub circuit: Arc<CircuitBreaker>,
    pub limiter: Option<RateLimiter>,
    pub wake: Arc<Notify>,
    pub finisher: Finisher,
    pub shutdown: CancellationToken,
}

impl DestinationWorker {
    /// Runs until shutdown, then lets in-flight attempts finish (bounded) and hands back the
    /// rest.
    pub async fn run(self) {
        let this = Arc::new(self);
        let slots = Arc::new(Semaphore::new(this.destination.concurrency as usize));
        let in_flight_ids = Arc::new(Mutex::new(HashSet::new()));
        let mut attempts = JoinSet::new();
        while !this.shutdown.is_cancelled() {
            while attempts.try_join_next().is_some() {}
            metrics::circuit_state(&this.destination.id, this.circuit.state());
            let free = slots.available_permits();
            let limit = match this.circuit.permit(Instant::now()) {
                Permit::Allowed => free.min(CLAIM_BATCH),
                Permit::Probe => 1.min(free),
                Permit::Wait(until) => {
                    this.idle(&mut attempts, Some(until)).await;
                    continue;
                }
            };
            if limit == 0 {
                this.idle(&mut attempts, None).await;
                continue;
            }
            let lease = Duration::from_millis(this.destination.timeout_ms) + LEASE_MARGIN;
            match this
                .store
                .claim_deliveries(&this.destination.id, limit as u32, lease)
                .await
            {
                Ok(claimed) if claimed.is_empty() => this.idle(&mut attempts, None).await,
                Ok(claimed) => {
                    for delivery in claimed {
                        let permit = slots.clone().acquire_owned().await.expect("never closed");
                        in_flight_ids
                            .lock()
                            .expect("not poisoned")
                            .insert(delivery.id);
                        let (worker, ids) = (this.clone(), in_flight_ids.clone());
                        attempts.spawn(async move {
                            let id = delivery.id;
                            worker.attempt(delivery).await;
                            ids.lock().expect("not poisoned").remove(&id);
                            drop(permit);
                        });
                    }
                }
                Err(err) => {
                    tracing::warn!(destination = %this.destination.id, error = %err, "claim failed");
                    this.idle(&mut attempts, Some(Instant::now() + Duration::from_secs(1)))
                        .await;
                }
            }
        }
        this.drain(attempts, &in_flight_ids).await;
    }

    /// Waits for a wake-up, a finished attempt, `until` (or the poll interval), or shutdown.
    async fn idle(&self, attempts: &mut JoinSet<()>, until: Option<Instant>) {
        let deadline = until.unwrap_or_else(|| Instant::now() + POLL_INTERVAL);
        tokio::select! {
            () = self.wake.notified(), if until.is_none() => {}
            Some(_) = attempts.join_next(), if !attempts.is_empty() => {}
            () = tokio::time::sleep_until(deadline.into()) => {}
            () = self.shutdown.cancelled() => {}
        }
    }

    async fn drain(&self, mut attempts: JoinSet<()>, in_flight_ids: &Mutex<HashSet<Uuid>>) {
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while attempts.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            attempts.shutdown().await;
        }
        let unfinished: Vec<Uuid> = in_flight_ids
            .lock()
            .expect("not poisoned")
            .drain()
            .collect();
        if !unfinished.is_empty()
            && let Err(err) = self.store.release_deliveries(&unfinished).await
        {
            tracing::warn!(error = %err, count = unfinished.len(),
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
        let result = request::send(
            &self.client,
            &Attempt {
                url: &destination.url,
                body: &delivery.body,
                content_type: delivery.content_type.as_deref(),
                event_id: delivery.event_id,
                source_id: &delivery.source_id,
                event_type: delivery.event_type.as_deref(),
                attempt: delivery.attempt as u32,
                delivery_id: delivery.id,
                signing_key: self.signing_key.as_ref(),
                timeout: Duration::from_millis(destination.timeout_ms),
            },
            started_at.unix_timestamp(),
        )
        .await;
        let step = self
            .retry
            .next_step(delivery.attempt as u32, &result.outcome, policy::jitter());
        if result.outcome.is_retryable() {
            self.circuit.record_failure(Instant::now());
        } else {
            self.circuit.record_success();
        }
        let next = match step {
            Step::Delivered => NextState::Delivered,
            Step::Retry { after } => NextState::RetryAt(OffsetDateTime::now_utc() + after),
            Step::Dead { .. } => NextState::Dead,
        };
        metrics::delivery_attempt(&destination.id, next, result.duration);
        tracing::debug!(destination = %destination.id, delivery = %delivery.id, attempt = delivery.attempt, outcome = %result.outcome, ?next, "attempt finished");
        self.finisher
            .record(AttemptRecord {
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
            })
            .await;
    }
}
