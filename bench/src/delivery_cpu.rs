//! Delivery alone, measured from the outside: a queue of deliveries is committed at once
//! (`seed`), a `hookgate serve --role worker` drains it, and `watch` reports how fast it did and
//! how much CPU hookgate spent per delivered event. Run once against a plain HTTP sink and once
//! against an HTTPS one, it gives what TLS costs a delivery with connections kept and reused.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hookgate::store::{NewEvent, Store};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::ceiling_pg::event_like_hookgates;
use crate::cpu::CpuReading;
use crate::queue_counts::QueueCounter;

/// How often the backlog is counted while a queue drains.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// One drained queue.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeliveryRun {
    /// What the destination was: `http` or `https`.
    pub label: String,
    /// Deliveries counted from the first one seen delivered until the queue was empty.
    pub delivered: u64,
    /// Seconds that took.
    pub secs: f64,
    /// CPU seconds the hookgate process spent meanwhile (user + system).
    pub cpu_secs: f64,
    /// CPU seconds Postgres spent meanwhile, but for the watch's own queries (absent from
    /// runs recorded before it was measured).
    #[serde(default)]
    pub postgres_cpu_secs: f64,
    /// Deliveries left undelivered when the watch gave up (0 when the queue drained).
    pub left: i64,
}

impl DeliveryRun {
    /// Delivered events per second.
    pub fn per_sec(&self) -> f64 {
        self.delivered as f64 / self.secs.max(f64::EPSILON)
    }

    /// hookgate's CPU per delivered event, in microseconds.
    pub fn cpu_us_per_delivery(&self) -> f64 {
        self.us_per_delivery(self.cpu_secs)
    }

    /// Postgres's CPU per delivered event, in microseconds.
    pub fn postgres_us_per_delivery(&self) -> f64 {
        self.us_per_delivery(self.postgres_cpu_secs)
    }

    fn us_per_delivery(&self, cpu_secs: f64) -> f64 {
        1e6 * cpu_secs / (self.delivered.max(1) as f64)
    }

    /// Prints the human-readable report.
    pub fn print(&self) {
        println!(
            "== Delivery over {}: {} delivered in {:.2} s = {:.0}/s; CPU per delivery: hookgate {:.1} µs + Postgres {:.1} µs{}",
            self.label,
            self.delivered,
            self.secs,
            self.per_sec(),
            self.cpu_us_per_delivery(),
            self.postgres_us_per_delivery(),
            match self.left {
                0 => String::new(),
                left => format!("; {left} NOT delivered before the timeout"),
            }
        );
    }
}

/// A queue to commit: `events` events of `source` with `body`, one delivery each to
/// `destination`, spread over `keys` ordering keys in turn (0: unordered).
pub struct Seed<'a> {
    pub source: &'a str,
    pub destination: &'a str,
    pub events: usize,
    pub body: Bytes,
    pub keys: usize,
}

/// Commits the queue in one statement, so the worker finds it whole at once. Migrates the
/// database first.
pub async fn seed(database_url: &str, seed: Seed<'_>) -> anyhow::Result<()> {
    let store = Store::connect_lazy(database_url, 1)?;
    store.migrate().await?;
    let (source, destination): (Arc<str>, Arc<str>) =
        (Arc::from(seed.source), Arc::from(seed.destination));
    let batch: Vec<NewEvent> = (0..seed.events)
        .map(|n| {
            let mut event = event_like_hookgates(&source, &destination, &seed.body);
            if seed.keys > 0 {
                event.deliveries[0].ordering_key = Some(format!("key-{}", n % seed.keys));
            }
            event
        })
        .collect();
    store.insert_events(&batch).await?;
    store.close().await;
    Ok(())
}

/// Watches the queue drain: from the first delivery seen until none is pending or in flight
/// (at most `timeout`), counting deliveries and the CPU of process `pid` (hookgate).
pub async fn watch(
    database_url: &str,
    pid: u32,
    label: &str,
    timeout: Duration,
) -> anyhow::Result<DeliveryRun> {
    let counter = QueueCounter::connect(database_url).await?;
    let deadline = Instant::now() + timeout;
    let mut tick = tokio::time::interval(POLL_EVERY);
    while !counter.any_delivered().await? {
        anyhow::ensure!(Instant::now() < deadline, "no delivery within {timeout:?}");
        tick.tick().await;
    }
    let started = Instant::now();
    let cpu_then = CpuReading::now(pid, Some(counter.backend()))?;
    let delivered_then = counter.finals().await?.delivered;
    let left = loop {
        tick.tick().await;
        let backlog = counter.backlog().await?;
        if backlog == 0 || Instant::now() > deadline {
            break backlog;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let spent = cpu_then.spent()?;
    let delivered = counter.finals().await?.delivered;
    counter.close().await;
    Ok(DeliveryRun {
        label: label.to_owned(),
        delivered: u64::try_from(delivered - delivered_then)?,
        secs,
        cpu_secs: spent.hookgate_secs,
        postgres_cpu_secs: spent.postgres_secs,
        left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_cpu_per_delivery_come_from_the_counts() {
        let run = DeliveryRun {
            label: "https".into(),
            delivered: 20_000,
            secs: 4.0,
            cpu_secs: 2.0,
            postgres_cpu_secs: 1.0,
            left: 0,
        };
        assert_eq!(run.per_sec(), 5_000.0);
        assert_eq!(run.cpu_us_per_delivery(), 100.0);
        assert_eq!(run.postgres_us_per_delivery(), 50.0);
    }
}
