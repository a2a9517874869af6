//! The crash loop: signed load from several connections while hookgate is killed with
//! `kill -9` at varying moments and restarted, five times (fifty in the soak). Every acknowledged event ends up
//! delivered; a delivery repeats only when a kill cut its attempt short (reported).

use crate::drill::{self, Load, figures, scale};
use crate::durability::post_github;
use crate::helpers::*;
use crate::process::ServeProcess;
use crate::sink::Sink;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SENDERS: usize = 4;

/// A delay between 200 and 800 ms that differs from run to run and kill to kill.
fn moment() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(200 + u64::from(nanos) % 600)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_five_times_loses_no_acknowledged_event() {
    let kills = scale(5, 50);
    let sink = Sink::ok();
    let database = create_database(&server_url()).await;
    let billing = Dest::at(&sink.url, "timeout_ms = 2000");
    let config = config_text(&database.url, &billing, &Dest::default(), "");
    let mut acked = HashSet::new();
    let mut answers = std::collections::BTreeMap::new();
    let mut unanswered = 0;
    for _ in 0..kills {
        let process = ServeProcess::start(&config);
        let load = Load::start(std::slice::from_ref(&process.ingest), SENDERS);
        tokio::time::sleep(moment()).await;
        process.signal("KILL");
        let report = load.finish().await;
        report.assert_only_acks_and_hinted_503s();
        for (status, n) in &report.statuses {
            *answers.entry(*status).or_insert(0) += n;
        }
        unanswered += report.unanswered;
        acked.extend(report.acked);
        drop(process);
    }
    let survivor = ServeProcess::start(&config);
    acked.insert(post_github(&survivor.ingest).await);

    let repeated = drill::wait_all_delivered(&sink, &acked, Duration::from_secs(90)).await;
    figures(
        "crash-loop",
        &[
            ("kills", kills.to_string()),
            ("senders", SENDERS.to_string()),
            ("acked", acked.len().to_string()),
            ("delivered", acked.len().to_string()),
            ("duplicates", repeated.to_string()),
            ("answers", format!("{answers:?}")),
            ("unanswered_at_kills", unanswered.to_string()),
        ],
    );
}
