//! Keeps the operator's log readable at any rate: at most one line per interval for each kind
//! of event (one source's accepted webhooks, one destination's failures, …), and the next line
//! that is written says how many were left out in between.
//!
//! An operator needs to see that events arrive and that deliveries fail, but at thousands of
//! events a second a line each would drown the log (and cost more than the event). Metrics keep
//! the exact counts; the log keeps the story.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The interval most operator lines use.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// One kind of log line, admitted at most once per interval. Lock-free: it sits on the ingest
/// and delivery paths.
#[derive(Debug)]
pub struct LogThrottle {
    interval_ms: u64,
    /// Milliseconds since [`epoch`] before which no line is written; 0 lets the first through.
    next_allowed_ms: AtomicU64,
    /// Lines left out since the last one written.
    suppressed: AtomicU64,
}

impl Default for LogThrottle {
    fn default() -> Self {
        LogThrottle::new(DEFAULT_INTERVAL)
    }
}

impl LogThrottle {
    pub const fn new(interval: Duration) -> LogThrottle {
        let interval_ms = interval.as_millis() as u64;
        LogThrottle {
            interval_ms: if interval_ms == 0 { 1 } else { interval_ms },
            next_allowed_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether to write a line now: `Some` with how many were left out since the last one,
    /// or `None` to leave this one out.
    pub fn admit(&self) -> Option<Admitted> {
        self.admit_at(epoch().elapsed().as_millis() as u64)
            .map(|suppressed| Admitted {
                suppressed: (suppressed > 0).then_some(suppressed),
            })
    }

    fn admit_at(&self, now_ms: u64) -> Option<u64> {
        let next = self.next_allowed_ms.load(Ordering::Relaxed);
        if now_ms >= next
            && self
                .next_allowed_ms
                .compare_exchange(
                    next,
                    now_ms + self.interval_ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// A line that may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// How many lines of this kind were left out since the last one written; `None` when none
    /// were, so that the field is not logged at all (tracing records nothing for `None`).
    pub suppressed: Option<u64>,
}

/// The process's reference instant for throttles.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_passes_and_the_rest_of_the_interval_is_counted() {
        let throttle = LogThrottle::new(Duration::from_millis(1000));
        assert_eq!(throttle.admit_at(5), Some(0));
        assert_eq!(throttle.admit_at(6), None);
        assert_eq!(throttle.admit_at(1004), None);
        assert_eq!(throttle.admit_at(1005), Some(2));
        assert_eq!(throttle.admit_at(2005), Some(0));
    }

    #[test]
    fn a_line_after_none_left_out_carries_no_count() {
        let throttle = LogThrottle::new(Duration::from_secs(3600));
        assert_eq!(throttle.admit(), Some(Admitted { suppressed: None }));
        assert_eq!(throttle.admit(), None);
    }

    #[test]
    fn lines_further_apart_than_the_interval_all_pass() {
        let throttle = LogThrottle::new(Duration::from_millis(100));
        for t in [0, 100, 250, 10_000] {
            assert_eq!(throttle.admit_at(t), Some(0), "at {t} ms");
        }
    }

    #[test]
    fn concurrent_callers_write_one_line_per_interval() {
        let throttle = std::sync::Arc::new(LogThrottle::new(Duration::from_secs(3600)));
        let written: u64 = (0..4)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || (0..1000).filter(|_| throttle.admit().is_some()).count())
            })
            .map(|handle| handle.join().unwrap() as u64)
            .sum();
        assert_eq!(written, 1);
        assert_eq!(throttle.suppressed.load(Ordering::Relaxed), 3999);
    }
}
