//! The delivery phase seen from the database: how fast `deliveries` turn `delivered` while load
//! runs, and how long the backlog takes to drain once it stops; with hookgate's process id,
//! also the CPU hookgate and Postgres spent from the start of the watch (just before the load)
//! until the backlog drained: the whole cost of every event, from ingest to delivered.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::cpu::{CpuReading, CpuSpent};
use crate::queue_counts::QueueCounter;

/// How often the backlog is counted.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Delivery throughput and backlog.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DrainReport {
    /// Deliveries delivered by the end of the watch.
    pub delivered: i64,
    /// Deliveries dead by the end of the watch.
    pub dead: i64,
    /// Largest pending + in-flight count seen.
    pub peak_backlog: i64,
    /// Pending + in-flight when the load ended.
    pub backlog_at_load_end: i64,
    /// Deliveries/s while the load ran.
    pub during_load_per_sec: f64,
    /// Seconds from the end of the load until nothing was pending or in flight.
    pub drain_secs: Option<f64>,
    /// Delivered / (load time + drain time): the sustained end-to-end delivery rate.
    pub sustained_per_sec: f64,
    /// CPU of hookgate and Postgres from the start of the watch until the backlog drained (or
    /// the watch gave up), when hookgate's process was named.
    #[serde(default)]
    pub cpu: Option<CpuSpent>,
}

impl DrainReport {
    /// hookgate's and Postgres's CPU per delivered event, in microseconds.
    pub fn cpu_split_us_per_delivered(&self) -> Option<(f64, f64)> {
        Some(self.cpu?.split_us_per(self.delivered.max(0) as u64))
    }

    /// Prints the human-readable report.
    pub fn print(&self) {
        println!(
            "== Delivery: {} delivered, {} dead",
            self.delivered, self.dead
        );
        println!(
            "   during load {:.0} deliveries/s; backlog peak {}, {} at load end",
            self.during_load_per_sec, self.peak_backlog, self.backlog_at_load_end
        );
        match self.drain_secs {
            Some(secs) => println!(
                "   backlog drained {secs:.2} s after the load; sustained {:.0} deliveries/s",
                self.sustained_per_sec
            ),
            None => println!("   backlog NOT drained before the timeout"),
        }
        if let Some((hookgate, postgres)) = self.cpu_split_us_per_delivered() {
            println!(
                "   CPU per delivered event {:.1} µs: hookgate {hookgate:.1} µs + Postgres {postgres:.1} µs",
                hookgate + postgres
            );
        }
    }
}

/// Watches from now: the load is taken to run for `load`; then waits until the backlog is
/// empty, at most `timeout` after the load. Measures the CPU of process `hookgate` (and of
/// Postgres) meanwhile when it is given.
pub async fn watch(
    database_url: &str,
    load: Duration,
    timeout: Duration,
    hookgate: Option<u32>,
) -> anyhow::Result<DrainReport> {
    let counter = QueueCounter::connect(database_url).await?;
    let start = Instant::now();
    let load_end = start + load;
    let delivered_at_start = counter.finals().await?.delivered;
    let cpu_then = hookgate
        .map(|pid| CpuReading::now(pid, Some(counter.backend())))
        .transpose()?;
    let mut report = DrainReport::default();
    let mut tick = tokio::time::interval(POLL_EVERY);
    let mut load_ended = false;
    // When the backlog emptied, if it did before the timeout.
    let drained_at = loop {
        tick.tick().await;
        let backlog = counter.backlog().await?;
        let now = Instant::now();
        report.peak_backlog = report.peak_backlog.max(backlog);
        if now < load_end {
            continue;
        }
        if !load_ended {
            load_ended = true;
            let delivered = counter.finals().await?.delivered - delivered_at_start;
            report.backlog_at_load_end = backlog;
            report.during_load_per_sec = delivered as f64 / now.duration_since(start).as_secs_f64();
        }
        if backlog == 0 {
            break Some(now);
        }
        if now > load_end + timeout {
            break None;
        }
    };
    let finals = counter.finals().await?;
    report.delivered = finals.delivered - delivered_at_start;
    report.dead = finals.dead;
    if let Some(at) = drained_at {
        report.drain_secs = Some(at.duration_since(load_end).as_secs_f64());
        report.sustained_per_sec = report.delivered as f64 / at.duration_since(start).as_secs_f64();
    }
    report.cpu = cpu_then.map(|then| then.spent()).transpose()?;
    counter.close().await;
    Ok(report)
}
