//! Three processes on one Postgres and one Redis, as behind a load balancer: two
//! `hookgate serve` taking the webhooks in turn and one `hookgate serve --role worker`. One
//! `serve` is killed with `kill -9` under load. Every acknowledged event is delivered, no
//! delivery is ever in flight twice at once, and the destination's rate limit holds across
//! all three (it is shared through Redis).

use crate::drill::{self, Load, arrivals, figures};
use crate::helpers::*;
use crate::process::ServeProcess;
use crate::sink::{Reply, Sink};
use std::time::{Duration, Instant};

/// The destination's `rate_limit_per_sec`.
const RATE: usize = 50;
/// How long the destination takes to answer: two arrivals of one delivery closer than this
/// would mean it was in flight twice at once.
const ANSWER_DELAY: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_share_the_queue_and_the_rate_limit_and_survive_a_kill() {
    let sink = Sink::start(vec![], Reply::status(200).after(ANSWER_DELAY));
    let database = create_database(&server_url()).await;
    let billing = Dest::at(
        &sink.url,
        &format!("timeout_ms = 2000\nrate_limit_per_sec = {RATE}"),
    );
    let redis = format!(
        "\n[redis]\nurl = \"{}\"\nkey_prefix = \"hgtest:{}:\"\n",
        redis_url(),
        uuid::Uuid::now_v7().simple()
    );
    let config = config_text(&database.url, &billing, &Dest::default(), &redis);
    let survivor = ServeProcess::start(&config);
    let victim = ServeProcess::start(&config);
    let _worker = ServeProcess::start_role(&config, "worker");

    let load = Load::start(&[survivor.ingest.clone(), victim.ingest.clone()], 4);
    load.wait_for_acks(150, Duration::from_secs(60)).await;
    victim.signal("KILL");
    let killed_at = Instant::now();
    load.wait_for_acks(150, Duration::from_secs(60)).await;
    let report = load.finish().await;
    report.assert_only_acks_and_hinted_503s();

    let drain = Duration::from_secs(60 + (report.acked.len() / RATE) as u64);
    let repeats = drill::wait_all_delivered(&sink, &report.acked, drain).await;
    let received = sink.received();
    drill::assert_repeats_only_across_the_kill(&received, ANSWER_DELAY, killed_at);
    // Redis counts the limit in fixed one-second windows shared by every process, so no
    // second holds more than two windows' worth: 2 × RATE.
    let mut times: Vec<Instant> = received.iter().map(|r| r.at).collect();
    times.sort();
    let busiest = times
        .windows(2 * RATE + 1)
        .map(|window| window[2 * RATE] - window[0])
        .min();
    if let Some(shortest) = busiest {
        assert!(
            shortest >= Duration::from_millis(900),
            "{} deliveries within {shortest:?}: the rate limit did not hold across processes",
            2 * RATE + 1
        );
    }
    let per_second =
        received.len() as f64 / (*times.last().unwrap() - *times.first().unwrap()).as_secs_f64();
    figures(
        "three-instances",
        &[
            ("processes", "serve,serve(killed),worker".to_string()),
            ("answers", report.statuses_text()),
            ("acked", report.acked.len().to_string()),
            ("delivered", arrivals(&sink).len().to_string()),
            ("duplicates", repeats.to_string()),
            ("rate_limit", format!("{RATE}/s")),
            ("delivered_rate", format!("{per_second:.1}/s")),
        ],
    );
}
