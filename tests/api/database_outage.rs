//! Database outage: Postgres stopped with `immediate` under load, for 2 s and then for 60 s
//! (and 10 min in the soak). Throughout, ingest answers at once with 503 + Retry-After — never
//! a hang, never a 2xx it cannot keep — `/readyz` says 503, and once Postgres is back ingest
//! recovers by itself and every event acknowledged before, between and after is delivered.

use crate::drill::{self, Load, figures, scale};
use crate::helpers::*;
use crate::private_pg::PrivatePostgres;
use crate::sink::Sink;
use std::time::{Duration, Instant};

const SENDERS: usize = 8;
/// The longest any answer may take, outage or not: ingest's own deadline on a commit is
/// shorter (a refused or broken connection fails at once; a stalled one at the statement
/// timeout), so a slower answer is a hang.
const ANSWER_DEADLINE: Duration = Duration::from_secs(20);

/// Polls `/readyz` until it answers `status` (panics after `within`); answers how long it took.
async fn wait_readiness(app: &TestApp, status: u16, within: Duration) -> Duration {
    let started = Instant::now();
    while app.readyz().await.status() != status {
        assert!(
            started.elapsed() < within,
            "/readyz never answered {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_under_load_means_fast_503s_and_recovery_without_a_restart() {
    let pg = PrivatePostgres::start();
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        server: Some(pg.url()),
        billing: Dest::at(&sink.url, "backoff_base_ms = 50\nbackoff_max_ms = 500"),
        ..Default::default()
    })
    .await;
    let load = Load::start(std::slice::from_ref(&app.ingest), SENDERS);
    let outages = scale(vec![2, 60], vec![2, 60, 600]);
    let mut recoveries = Vec::new();
    for &outage in &outages {
        load.wait_for_acks(50, Duration::from_secs(60)).await;
        pg.crash();
        let refused_before = load.answered(503);
        wait_readiness(&app, 503, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_secs(outage)).await;
        assert_eq!(
            app.readyz().await.status(),
            503,
            "still down after {outage} s"
        );
        assert!(
            load.answered(503) > refused_before,
            "ingest answered during the {outage} s outage"
        );

        pg.start_again();
        let back = Instant::now();
        load.wait_for_acks(1, Duration::from_secs(60)).await;
        let accepting_after = back.elapsed();
        wait_readiness(&app, 200, Duration::from_secs(30)).await;
        recoveries.push(format!("{outage}s:{:.1}s", accepting_after.as_secs_f64()));
    }
    load.wait_for_acks(50, Duration::from_secs(60)).await;
    let report = load.finish().await;
    report.assert_only_acks_and_hinted_503s();
    assert!(
        report.slowest < ANSWER_DEADLINE,
        "an answer took {:?}",
        report.slowest
    );
    let repeats = drill::wait_all_delivered(&sink, &report.acked, Duration::from_secs(120)).await;
    figures(
        "database-outage",
        &[
            ("senders", SENDERS.to_string()),
            ("outages_s", format!("{outages:?}")),
            ("answers", report.statuses_text()),
            ("slowest_answer", format!("{:?}", report.slowest)),
            ("acked", report.acked.len().to_string()),
            ("delivered", report.acked.len().to_string()),
            ("duplicates", repeats.to_string()),
            ("accepting_again_after", recoveries.join(",")),
        ],
    );
    app.stop().await;
}
