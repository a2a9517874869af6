//! A per-destination circuit breaker, in memory in each worker process. After repeated
//! failures a destination's deliveries wait instead of spending attempts; after a cool-down
//! one probe finds out whether it has recovered.
//!
//! Time is passed in, so the breaker is tested without sleeping. After each attempt that
//! [`CircuitBreaker::permit`] allowed, call exactly one of [`CircuitBreaker::record_success`]
//! (the destination answered and is not failing, e.g. 2xx or a non-retryable 4xx) or
//! [`CircuitBreaker::record_failure`] (an outcome that is retried: 5xx, 429, timeout, …).

use crate::config::CircuitConfig;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitSettings {
    /// Consecutive failures that open a closed circuit.
    pub failure_threshold: u32,
    /// How long the circuit first stays open.
    pub cool_down: Duration,
    /// The cool-down doubles each time a probe fails, up to this.
    pub max_cool_down: Duration,
}

impl From<&CircuitConfig> for CircuitSettings {
    fn from(config: &CircuitConfig) -> Self {
        CircuitSettings {
            failure_threshold: config.failure_threshold,
            cool_down: Duration::from_millis(config.cool_down_ms),
            max_cool_down: Duration::from_millis(config.max_cool_down_ms),
        }
    }
}

/// The breaker's state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
}

/// What an attempt's result did to the circuit, for the operator's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Unchanged,
    /// The circuit opened (or re-opened after a failed probe) for this long.
    Opened(Duration),
    /// A probe succeeded: deliveries flow again.
    Closed,
}

/// The answer to "may a delivery be attempted now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// The circuit is closed: go ahead.
    Allowed,
    /// Go ahead as the single probe; its result closes or re-opens the circuit.
    Probe,
    /// Do not attempt (and do not count an attempt) before this instant.
    Wait(Instant),
}

/// A thread-safe circuit breaker for one destination.
#[derive(Debug)]
pub struct CircuitBreaker {
    settings: CircuitSettings,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        cool_down: Duration,
    },
    /// A probe is out. Should its result never come (its task was cancelled), another probe is
    /// allowed at `retry_probe_at`.
    HalfOpen {
        retry_probe_at: Instant,
        cool_down: Duration,
    },
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(settings: CircuitSettings) -> CircuitBreaker {
        CircuitBreaker {
            settings,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    /// Whether an attempt may be made at `now`.
    pub fn permit(&self, now: Instant) -> Permit {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Permit::Allowed,
            Inner::Open { until, cool_down }
            | Inner::HalfOpen {
                retry_probe_at: until,
                cool_down,
            } => {
                if now < until {
                    return Permit::Wait(until);
                }
                *inner = Inner::HalfOpen {
                    retry_probe_at: now + cool_down,
                    cool_down,
                };
                Permit::Probe
            }
        }
    }

    /// The destination answered well: a probe's success closes the circuit.
    pub fn record_success(&self) -> Transition {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => {
                *inner = Inner::Closed { failures: 0 };
                Transition::Unchanged
            }
            Inner::HalfOpen { .. } => {
                *inner = Inner::Closed { failures: 0 };
                Transition::Closed
            }
            // A late answer to an attempt made before the circuit opened; the probe decides.
            Inner::Open { .. } => Transition::Unchanged,
        }
    }

    /// The destination failed at `now`: enough of these open the circuit, and a failed probe
    /// re-opens it for twice as long as before (up to the cap).
    pub fn record_failure(&self, now: Instant) -> Transition {
        let settings = self.settings;
        let mut inner = self.lock();
        let cool_down = match *inner {
            Inner::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures < settings.failure_threshold {
                    *inner = Inner::Closed { failures };
                    return Transition::Unchanged;
                }
                settings.cool_down
            }
            Inner::HalfOpen { cool_down, .. } => {
                cool_down.saturating_mul(2).min(settings.max_cool_down)
            }
            // A late failure of an attempt made before the circuit opened.
            Inner::Open { .. } => return Transition::Unchanged,
        };
        *inner = open(now, cool_down);
        Transition::Opened(cool_down)
    }

    /// The current state.
    pub fn state(&self) -> CircuitState {
        match *self.lock() {
            Inner::Closed { .. } => CircuitState::Closed,
            Inner::Open { .. } => CircuitState::Open,
            Inner::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// The state stays consistent even if a holder panicked, so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open(now: Instant, cool_down: Duration) -> Inner {
    Inner::Open {
        until: now + cool_down,
        cool_down,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(CircuitSettings {
            failure_threshold: 3,
            cool_down: 10 * SECOND,
            max_cool_down: 35 * SECOND,
        })
    }

    /// A breaker just opened at `now`.
    fn opened(now: Instant) -> CircuitBreaker {
        let breaker = breaker();
        fail_times(&breaker, 3, now);
        breaker
    }

    fn fail_times(breaker: &CircuitBreaker, times: u32, now: Instant) {
        for _ in 0..times {
            breaker.record_failure(now);
        }
    }

    #[test]
    fn defaults_are_five_failures_thirty_seconds_five_minutes() {
        let settings = CircuitSettings::from(&CircuitConfig::default());
        assert_eq!(settings.failure_threshold, 5);
        assert_eq!(settings.cool_down, 30 * SECOND);
        assert_eq!(settings.max_cool_down, 300 * SECOND);
    }

    #[test]
    fn a_closed_circuit_allows_and_opens_after_the_threshold() {
        let breaker = breaker();
        let now = Instant::now();
        fail_times(&breaker, 2, now);
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.permit(now), Permit::Allowed);
        assert_eq!(breaker.record_failure(now), Transition::Opened(10 * SECOND));
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(
            breaker.permit(now + SECOND),
            Permit::Wait(now + 10 * SECOND)
        );
    }

    #[test]
    fn a_success_resets_the_consecutive_count() {
        let breaker = breaker();
        let now = Instant::now();
        fail_times(&breaker, 2, now);
        assert_eq!(breaker.record_success(), Transition::Unchanged);
        fail_times(&breaker, 2, now);
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.permit(now), Permit::Allowed);
    }

    #[test]
    fn after_the_cool_down_exactly_one_probe_goes_and_its_success_closes() {
        let now = Instant::now();
        let breaker = opened(now);
        let later = now + 10 * SECOND;
        assert_eq!(breaker.permit(later), Permit::Probe);
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        assert_eq!(breaker.permit(later), Permit::Wait(later + 10 * SECOND));
        assert_eq!(breaker.record_success(), Transition::Closed);
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.permit(later), Permit::Allowed);
    }

    #[test]
    fn a_failed_probe_reopens_for_double_the_time_up_to_the_cap() {
        let mut now = Instant::now();
        let breaker = opened(now);
        let mut waits = Vec::new();
        for _ in 0..4 {
            let Permit::Wait(until) = breaker.permit(now) else {
                panic!("expected the circuit to be open");
            };
            waits.push(until - now);
            now = until;
            assert_eq!(breaker.permit(now), Permit::Probe);
            assert!(matches!(breaker.record_failure(now), Transition::Opened(_)));
            assert_eq!(breaker.state(), CircuitState::Open);
        }
        assert_eq!(waits, [10 * SECOND, 20 * SECOND, 35 * SECOND, 35 * SECOND]);
    }

    #[test]
    fn success_after_reopening_resets_the_cool_down() {
        let now = Instant::now();
        let breaker = opened(now);
        assert_eq!(breaker.permit(now + 10 * SECOND), Permit::Probe);
        breaker.record_failure(now + 10 * SECOND);
        assert_eq!(breaker.permit(now + 30 * SECOND), Permit::Probe);
        breaker.record_success();
        fail_times(&breaker, 3, now + 40 * SECOND);
        assert_eq!(
            breaker.permit(now + 40 * SECOND),
            Permit::Wait(now + 50 * SECOND)
        );
    }

    #[test]
    fn a_lost_probe_is_replaced_after_another_cool_down() {
        let now = Instant::now();
        let breaker = opened(now);
        assert_eq!(breaker.permit(now + 10 * SECOND), Permit::Probe);
        assert_eq!(breaker.permit(now + 20 * SECOND), Permit::Probe);
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
    }

    #[test]
    fn late_results_while_open_change_nothing() {
        let now = Instant::now();
        let breaker = opened(now);
        assert_eq!(breaker.record_success(), Transition::Unchanged);
        assert_eq!(breaker.record_failure(now), Transition::Unchanged);
        fail_times(&breaker, 10, now + 5 * SECOND);
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(breaker.permit(now), Permit::Wait(now + 10 * SECOND));
    }

    #[test]
    fn states_have_metric_names() {
        let names = [
            CircuitState::Closed,
            CircuitState::Open,
            CircuitState::HalfOpen,
        ]
        .map(CircuitState::as_str);
        assert_eq!(names, ["closed", "open", "half_open"]);
    }
}
