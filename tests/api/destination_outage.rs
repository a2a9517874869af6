//! Destination outage: while signed webhooks keep arriving, the destination answers `503`,
//! refuses connections, or accepts them and never answers — for 60 s (10 min in the soak) —
//! then recovers. Every acknowledged event is delivered afterwards, the circuit breaker keeps
//! the attempts spent during the outage bounded, and ingest goes on at its usual rate.

use crate::drill::{self, Load, figures, scale};
use crate::gate::{Gate, Mode};
use crate::helpers::*;
use crate::sink::Sink;
use std::time::Duration;

/// Connections sending webhooks throughout, per drill (three drills run at once).
const SENDERS: usize = 1;
/// Deliveries per second the drain after the outage is expected to manage at least, with
/// three drills draining at once on a busy machine: how long the drill waits for it.
const DRAIN_RATE: usize = 300;
const CONCURRENCY: u64 = 8;
const FAILURE_THRESHOLD: u64 = 5;
const COOL_DOWN: Duration = Duration::from_secs(2);
const MAX_COOL_DOWN: Duration = Duration::from_secs(8);
/// How long ingest is watched before the outage, for its usual rate.
const BEFORE: Duration = Duration::from_secs(3);

fn outage() -> Duration {
    scale(Duration::from_secs(60), Duration::from_secs(600))
}

/// One outage of `mode`; panics unless everything acknowledged is delivered.
async fn drill(mode: Mode) {
    let sink = Sink::ok();
    let gate = Gate::start(&sink).await;
    let billing = Dest::at(
        &gate.url,
        &format!(
            "timeout_ms = 1000\nbackoff_base_ms = 200\nbackoff_max_ms = 2000\n\
             concurrency = {CONCURRENCY}\n\
             circuit = {{ failure_threshold = {FAILURE_THRESHOLD}, cool_down_ms = {}, max_cool_down_ms = {} }}",
            COOL_DOWN.as_millis(),
            MAX_COOL_DOWN.as_millis()
        ),
    );
    let app = spawn_app_with(TestOptions {
        billing,
        ..Default::default()
    })
    .await;
    let load = Load::start(std::slice::from_ref(&app.ingest), SENDERS);
    load.wait_for_acks(20, Duration::from_secs(30)).await;
    let rate_before = load.ack_rate(BEFORE).await;

    gate.set(mode).await;
    let delivered_before_outage = sink.count();
    let rate_during = load.ack_rate(outage()).await;
    let failed_attempts = app
        .count(
            "SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE d.destination_id = 'billing' AND a.status IS DISTINCT FROM 200",
        )
        .await;
    gate.set(Mode::Forward).await;

    let report = load.finish().await;
    report.assert_only_acks_and_hinted_503s();
    let drain =
        MAX_COOL_DOWN * 4 + Duration::from_secs(60 + (report.acked.len() / DRAIN_RATE) as u64);
    let repeats = drill::wait_all_delivered(&sink, &report.acked, drain).await;
    assert_eq!(
        app.count("SELECT count(*) FROM deliveries WHERE state = 'dead'")
            .await,
        0,
        "no delivery spent all its attempts during the outage"
    );
    // Without the breaker every delivery pending during the outage would be retried every
    // 2 s at most; with it, only the attempts in flight when it opened and one probe per
    // cool-down fail.
    let probes = outage().as_secs() / COOL_DOWN.as_secs();
    let bound = CONCURRENCY + FAILURE_THRESHOLD + probes;
    assert!(
        failed_attempts as u64 <= bound,
        "{failed_attempts} failed attempts during the outage, more than {bound}"
    );
    let (max_attempts, mean_attempts): (i32, f64) = sqlx::query_as(
        "SELECT max(attempts), avg(attempts)::float8 FROM deliveries \
         WHERE destination_id = 'billing'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let rate_ratio = rate_during / rate_before;
    if drill::soak() {
        assert!(
            rate_ratio >= 0.9,
            "ingest slowed to {rate_ratio:.2} of its rate"
        );
    }
    figures(
        &format!("destination-outage-{mode:?}").to_lowercase(),
        &[
            ("outage_s", outage().as_secs().to_string()),
            ("answers", report.statuses_text()),
            ("acked", report.acked.len().to_string()),
            ("delivered", report.acked.len().to_string()),
            (
                "delivered_before_outage",
                delivered_before_outage.to_string(),
            ),
            ("duplicates", repeats.to_string()),
            ("failed_attempts", failed_attempts.to_string()),
            ("attempts_per_event_max", max_attempts.to_string()),
            ("attempts_per_event_mean", format!("{mean_attempts:.2}")),
            ("ingest_rate_before", format!("{rate_before:.0}/s")),
            ("ingest_rate_during", format!("{rate_during:.0}/s")),
            ("ratio", format!("{rate_ratio:.2}")),
        ],
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_destination_down_three_ways_loses_nothing_and_spends_bounded_attempts() {
    tokio::join!(
        drill(Mode::Unavailable),
        drill(Mode::Refuse),
        drill(Mode::Blackhole)
    );
}
