//! What hookgate itself accepted and delivered, second by second, during a load: its
//! `/metrics` counters scraped once a second. An overload run needs it because the driver's own
//! figures cannot tell a server that answers 2xx by deferring its deliveries from one that
//! keeps up with both, nor the seconds in which the server was done from those in which the
//! driver still waited for connects that time out.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::server_latency::scrape;

/// How long [`Watch::finish`] keeps scraping, after the load, for hookgate to deliver what it
/// accepted.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(120);

const ACCEPTED: &str = "hookgate_ingest_requests_total{";
const DELIVERED: &str = "hookgate_delivery_attempts_total{";

/// hookgate's counters at the end of each second of a run, counted from its start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerTimeline {
    /// Events accepted (stored and answered 2xx) by the end of each second.
    pub accepted: Vec<u64>,
    /// Deliveries delivered by the end of each second.
    pub delivered: Vec<u64>,
}

impl ServerTimeline {
    /// The first second, no earlier than `from_s` (the end of the offered load), by whose end
    /// everything accepted so far was delivered, and the events delivered per second up to
    /// it: what the server got through, ingest and delivery both, while it had more than it
    /// could do. `None` while it never caught up.
    pub fn caught_up(&self, from_s: usize) -> Option<(usize, f64)> {
        let second = (from_s.saturating_sub(1)..self.delivered.len())
            .find(|&s| self.accepted[s] > 0 && self.delivered[s] >= self.accepted[s])?;
        Some((
            second + 1,
            self.delivered[second] as f64 / (second + 1) as f64,
        ))
    }
}

/// The counters of one scrape, summed over sources and destinations.
fn counts(text: &str) -> (u64, u64) {
    let sum = |metric: &str, outcome_label: &str| {
        text.lines()
            .filter_map(|line| line.strip_prefix(metric))
            .filter(|line| line.contains(outcome_label))
            .filter_map(|line| line.rsplit_once(' ')?.1.trim().parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    (
        sum(ACCEPTED, "outcome=\"accepted\""),
        sum(DELIVERED, "outcome=\"delivered\""),
    )
}

/// A scrape a second on a thread of its own until [`Watch::finish`].
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<ServerTimeline>>,
}

impl Watch {
    /// Scrapes `url` now (the baseline), then at the end of every second after `start`.
    pub fn start(url: &str, start: Instant) -> anyhow::Result<Watch> {
        let (base_accepted, base_delivered) = counts(&scrape(url)?);
        let (url, stop) = (url.to_owned(), Arc::new(AtomicBool::new(false)));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut timeline = ServerTimeline::default();
            let mut stopped_at = None;
            for second in 1.. {
                let due = start + Duration::from_secs(second);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let (accepted, delivered) = counts(&scrape(&url)?);
                let (accepted, delivered) = (
                    accepted.saturating_sub(base_accepted),
                    delivered.saturating_sub(base_delivered),
                );
                timeline.accepted.push(accepted);
                timeline.delivered.push(delivered);
                if stopping.load(Ordering::Relaxed) {
                    let stopped_at = *stopped_at.get_or_insert_with(Instant::now);
                    if delivered >= accepted || stopped_at.elapsed() > CATCH_UP_LIMIT {
                        break;
                    }
                }
            }
            Ok(timeline)
        });
        Ok(Watch { stop, thread })
    }

    /// Stops the scrapes once hookgate has delivered everything it accepted (at most
    /// [`CATCH_UP_LIMIT`] from now) and answers the timeline.
    pub fn finish(self) -> anyhow::Result<ServerTimeline> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the /metrics watch panicked"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_the_outcome_over_every_label_set() {
        let text = "\
# TYPE hookgate_ingest_requests_total counter
hookgate_ingest_requests_total{source=\"gh\",outcome=\"accepted\"} 10
hookgate_ingest_requests_total{source=\"stripe\",outcome=\"accepted\"} 5
hookgate_ingest_requests_total{source=\"gh\",outcome=\"duplicate\"} 7
hookgate_delivery_attempts_total{destination=\"a\",outcome=\"delivered\"} 12
hookgate_delivery_attempts_total{destination=\"a\",outcome=\"retry\"} 3
";
        assert_eq!(counts(text), (15, 12));
    }

    #[test]
    fn caught_up_is_the_first_second_after_the_load_with_nothing_left_to_deliver() {
        let timeline = ServerTimeline {
            accepted: vec![90, 180, 270, 300, 300, 300],
            delivered: vec![90, 150, 200, 260, 300, 300],
        };
        // Caught up at the end of second 1 too, but the load was offered for 3 s.
        assert_eq!(timeline.caught_up(3), Some((5, 60.0)));
        assert_eq!(timeline.caught_up(1), Some((1, 90.0)));
        let behind = ServerTimeline {
            accepted: vec![100, 200],
            delivered: vec![50, 150],
        };
        assert_eq!(behind.caught_up(1), None);
    }
}
