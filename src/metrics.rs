//! Prometheus metrics: the process-wide recorder, `GET /metrics`, one small function per thing
//! hookgate measures, and the task that refreshes the queue gauges from the database.
//!
//! Labels only ever carry configured source and destination ids and fixed outcome words:
//! never secrets, event ids or raw request paths, so cardinality stays bounded.

use crate::delivery::CircuitState;
use crate::store::{ExpiredLeases, InsertOutcome, NextState, Store};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const INGEST_REQUESTS: &str = "hookgate_ingest_requests_total";
const INGEST_ACK_SECONDS: &str = "hookgate_ingest_ack_seconds";
const INGEST_RESPONSE_SECONDS: &str = "hookgate_ingest_response_seconds";
const COMMIT_BATCH_SIZE: &str = "hookgate_ingest_commit_batch_size";
const COMMIT_SECONDS: &str = "hookgate_ingest_commit_seconds";
const COMMIT_QUEUE_WAIT_SECONDS: &str = "hookgate_ingest_commit_queue_wait_seconds";
const DELIVERY_ATTEMPTS: &str = "hookgate_delivery_attempts_total";
const DELIVERY_SECONDS: &str = "hookgate_delivery_duration_seconds";
const QUEUE_DEPTH: &str = "hookgate_queue_depth";
const QUEUE_OLDEST_SECONDS: &str = "hookgate_queue_oldest_pending_seconds";
const CIRCUIT_STATE: &str = "hookgate_circuit_state";
const LOG_LINES_DROPPED: &str = "hookgate_log_lines_dropped_total";
const SLOW_CONNECTIONS_CLOSED: &str = "hookgate_ingest_slow_connections_closed_total";

/// The `outcome` labels of stored ingest requests.
pub const ACCEPTED: &str = "accepted";
pub const DUPLICATE: &str = "duplicate";

/// The `outcome` labels of delivery attempts: the state each moved its delivery to.
const DELIVERED: &str = "delivered";
const RETRY: &str = "retry";
const DEAD: &str = "dead";
const FILTERED: &str = "filtered";

/// The `source` label of requests to a source that is not configured.
pub const UNKNOWN_SOURCE: &str = "unknown";

/// How often the queue gauges are refreshed (and the recorder's upkeep runs).
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
/// Counting a large backlog takes time: the queue gauges wait at least this many times as long
/// as their last refresh took, so they never cost more than 1/20 of a Postgres backend.
const GAUGE_COST_FACTOR: u32 = 20;

/// Seconds. Finer between 100 and 250 ms, where the overload goal's bound (server-timed p99
/// under 250 ms) lies: a p99 in one wide bucket there could not say on which side it fell.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use. Several applications in one process
/// (tests) share it; if another recorder was installed first, metrics render empty.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = [
            INGEST_ACK_SECONDS,
            INGEST_RESPONSE_SECONDS,
            COMMIT_SECONDS,
            COMMIT_QUEUE_WAIT_SECONDS,
            DELIVERY_SECONDS,
        ]
            .into_iter()
            .try_fold(PrometheusBuilder::new(), |builder, name| {
                builder.set_buckets_for_metric(Matcher::Full(name.into()), LATENCY_BUCKETS)
            })
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(COMMIT_BATCH_SIZE.into()),
                    BATCH_BUCKETS,
                )
            })
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(err) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %err, "a metrics recorder is already installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(INGEST_REQUESTS, "Webhooks received, by source and outcome");
    describe_histogram!(
        INGEST_ACK_SECONDS,
        "Time from request to 2xx acknowledgement"
    );
    describe_histogram!(
        INGEST_RESPONSE_SECONDS,
        "Time from request to answer, every answer (2xx, 4xx, 503), by status code"
    );
    describe_histogram!(COMMIT_BATCH_SIZE, "Events written per group commit");
    describe_histogram!(
        COMMIT_SECONDS,
        "Duration of each group commit (one statement, one fsync)"
    );
    describe_histogram!(
        COMMIT_QUEUE_WAIT_SECONDS,
        "How long the longest-waiting event of each group commit waited in the queue for it"
    );
    describe_counter!(
        DELIVERY_ATTEMPTS,
        "Delivery attempts, by destination and outcome (delivered, retry, dead)"
    );
    describe_histogram!(DELIVERY_SECONDS, "Duration of delivery attempts");
    describe_gauge!(QUEUE_DEPTH, "Pending deliveries per destination");
    describe_gauge!(
        QUEUE_OLDEST_SECONDS,
        "Age of the oldest pending delivery per destination"
    );
    describe_gauge!(
        CIRCUIT_STATE,
        "Circuit breaker per destination: 0 closed, 1 open, 2 half-open"
    );
    describe_counter!(
        LOG_LINES_DROPPED,
        "Log lines dropped: standard error closed, its reader gone, or not read fast enough"
    );
    describe_counter!(
        SLOW_CONNECTIONS_CLOSED,
        "Kept-alive ingest connections closed because their next request came too slowly"
    );
}

/// Registers `GET /metrics` (Prometheus text format, no auth).
pub fn routes(cfg: &mut web::ServiceConfig) {
    handle();
    cfg.route("/metrics", web::get().to(render));
}

async fn render() -> HttpResponse {
    counter!(LOG_LINES_DROPPED).absolute(crate::telemetry::lines_dropped());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle().render())
}

/// One ingest request ended in `outcome` without being stored (refused, a handshake, an
/// unknown source); stored ones are counted by their source's [`SourceMetrics`].
pub fn ingest_request(source: &str, outcome: Cow<'static, str>) {
    counter!(INGEST_REQUESTS, "source" => source.to_owned(), "outcome" => outcome).increment(1);
}

/// One source's metrics for the requests it stores, registered once with the source: looking
/// a labelled metric up by name costs a registry lookup and allocated labels per request.
pub struct SourceMetrics {
    accepted: Counter,
    duplicate: Counter,
    ack: Histogram,
}

impl SourceMetrics {
    /// Registers `source`'s metrics (installing the recorder first, if it is not yet: a
    /// handle taken before would record nowhere).
    pub fn new(source: &str) -> SourceMetrics {
        handle();
        let outcome = |outcome| outcome_counter(INGEST_REQUESTS, "source", source, outcome);
        SourceMetrics {
            accepted: outcome(ACCEPTED),
            duplicate: outcome(DUPLICATE),
            ack: histogram!(INGEST_ACK_SECONDS, "source" => source.to_owned()),
        }
    }

    /// A request was stored (`outcome`: new or a duplicate) and acknowledged after `ack`.
    pub fn stored(&self, outcome: InsertOutcome, ack: Duration) {
        match outcome {
            InsertOutcome::Accepted(_) => &self.accepted,
            InsertOutcome::Duplicate(_) => &self.duplicate,
        }
        .increment(1);
        self.ack.record(ack.as_secs_f64());
    }
}

/// The `name` counter of one source's or destination's `outcome`; `owner` names the label
/// that carries `id`.
fn outcome_counter(
    name: &'static str,
    owner: &'static str,
    id: &str,
    outcome: &'static str,
) -> Counter {
    counter!(name, owner => id.to_owned(), "outcome" => outcome)
}

/// An ingest request was answered `status` after `elapsed`: the server-side latency of every
/// answer, refusals and overload answers included (the ack histogram has only the 2xx).
pub fn ingest_response(status: StatusCode, elapsed: Duration) {
    histogram!(INGEST_RESPONSE_SECONDS, "status" => status.as_str().to_owned())
        .record(elapsed.as_secs_f64());
}

/// One group commit wrote `events` events in `duration`; its longest-queued event had
/// waited `queue_wait` for it to start.
pub fn commit_batch(events: usize, queue_wait: Duration, duration: Duration) {
    histogram!(COMMIT_BATCH_SIZE).record(events as f64);
    histogram!(COMMIT_QUEUE_WAIT_SECONDS).record(queue_wait.as_secs_f64());
    histogram!(COMMIT_SECONDS).record(duration.as_secs_f64());
}

/// One destination's attempt and circuit metrics, registered once for its worker. Looking a
/// labelled metric up by name costs a registry lookup and an allocated label per call, and
/// the worker records them for every attempt.
pub struct DestinationMetrics {
    delivered: Counter,
    retry: Counter,
    dead: Counter,
    filtered: Counter,
    duration: Histogram,
    circuit: Gauge,
}

impl DestinationMetrics {
    /// Registers `destination`'s metrics (installing the recorder first, if it is not yet:
    /// a handle taken before would record nowhere).
    pub fn new(destination: &str) -> DestinationMetrics {
        handle();
        let outcome =
            |outcome| outcome_counter(DELIVERY_ATTEMPTS, "destination", destination, outcome);
        DestinationMetrics {
            delivered: outcome(DELIVERED),
            retry: outcome(RETRY),
            dead: outcome(DEAD),
            filtered: outcome(FILTERED),
            duration: histogram!(DELIVERY_SECONDS, "destination" => destination.to_owned()),
            circuit: gauge!(CIRCUIT_STATE, "destination" => destination.to_owned()),
        }
    }

    /// One attempt took `duration` and moved the delivery to `next`.
    pub fn attempt(&self, next: NextState, duration: Duration) {
        self.outcome(next);
        self.duration.record(duration.as_secs_f64());
    }

    /// One attempt moved the delivery to `next` without asking the destination (a transform
    /// skipped it).
    pub fn outcome(&self, next: NextState) {
        match next {
            NextState::Delivered => &self.delivered,
            NextState::RetryAt(_) => &self.retry,
            NextState::Dead => &self.dead,
            NextState::Filtered => &self.filtered,
        }
        .increment(1);
    }

    /// The destination's circuit breaker is in `state`.
    pub fn circuit(&self, state: CircuitState) {
        self.circuit.set(circuit_value(state));
    }
}

/// A pull consumer's ack or nack moved a delivery to `next` (the push worker's attempts go
/// through [`DestinationMetrics`]).
pub fn attempt_outcome(destination: &str, next: NextState) {
    outcome_counter(
        DELIVERY_ATTEMPTS,
        "destination",
        destination,
        outcome_label(next),
    )
    .increment(1);
}

/// The `outcome` label of an attempt that moved its delivery to `next`.
fn outcome_label(next: NextState) -> &'static str {
    match next {
        NextState::Delivered => DELIVERED,
        NextState::RetryAt(_) => RETRY,
        NextState::Dead => DEAD,
        NextState::Filtered => FILTERED,
    }
}

/// Pull leases expired unacknowledged: failed attempts, counted like a push's (`retry` when
/// the delivery is due again, `dead` when its attempts were spent).
pub fn expired_leases(expired: &[ExpiredLeases]) {
    for group in expired {
        let outcome = if group.state == DEAD { DEAD } else { RETRY };
        counter!(DELIVERY_ATTEMPTS, "destination" => group.destination_id.clone(), "outcome" => outcome)
            .increment(group.count.unsigned_abs());
    }
}

/// The pause before the next gauge refresh, after one that took `took`.
fn gauge_pause(took: Duration) -> Duration {
    GAUGE_INTERVAL.max(took * GAUGE_COST_FACTOR)
}

/// A kept-alive ingest connection was closed because its next request came too slowly.
pub fn slow_connection_closed() {
    counter!(SLOW_CONNECTIONS_CLOSED).increment(1);
}

fn circuit_value(state: CircuitState) -> f64 {
    match state {
        CircuitState::Closed => 0.0,
        CircuitState::Open => 1.0,
        CircuitState::HalfOpen => 2.0,
    }
}

/// Refreshes the queue gauges of `destinations` from the database every few seconds (less
/// often while counting the backlog is slow), and runs the recorder's upkeep, until `shutdown`.
pub async fn refresh_queue_gauges(
    store: Store,
    destinations: Vec<String>,
    shutdown: CancellationToken,
) {
    loop {
        handle().run_upkeep();
        let started = std::time::Instant::now();
        match store.pending_by_destination().await {
            Ok(pending) => {
                for destination in &destinations {
                    let (depth, oldest) = pending
                        .iter()
                        .find(|p| &p.destination_id == destination)
                        .map_or((0, 0.0), |p| (p.count, p.oldest_age_secs));
                    gauge!(QUEUE_DEPTH, "destination" => destination.clone()).set(depth as f64);
                    gauge!(QUEUE_OLDEST_SECONDS, "destination" => destination.clone()).set(oldest);
                }
            }
            Err(err) => tracing::debug!(error = %err, "queue gauges not refreshed"),
        }
        tokio::select! {
            () = tokio::time::sleep(gauge_pause(started.elapsed())) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_refresh_every_few_seconds_unless_counting_is_slow() {
        assert_eq!(gauge_pause(Duration::from_millis(3)), GAUGE_INTERVAL);
        assert_eq!(
            gauge_pause(Duration::from_secs(2)),
            Duration::from_secs(40),
            "a 2 s count waits 20 times as long"
        );
    }
}
