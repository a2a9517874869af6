//! The retry policy: what happens after one delivery attempt. Pure: the attempt number, its
//! outcome and a random fraction go in, the next step comes out.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::config::DestinationConfig;

/// The longest `Retry-After` honoured; a destination asking for more waits this long.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 60 * 60);

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The destination answered with this status, and a `Retry-After` when it sent a valid one.
    Status(u16, Option<Duration>),
    /// A broker confirmed that it holds the message (a Redis stream added it, a JetStream
    /// stream acknowledged it).
    Confirmed,
    /// No complete answer within the destination's timeout.
    Timeout,
    /// No connection could be made (refused, unreachable, DNS failure).
    Connect(String),
    /// Any other transport failure (connection reset, malformed response).
    Transport(String),
    /// The TLS handshake failed: the destination's certificate did not verify, or it refused
    /// ours. Retried like any transport failure: a certificate gets fixed or renewed.
    Tls(String),
    /// A pull destination's consumer handed the delivery back (nack), saying why. Retried.
    Refused(String),
    /// The connection's transform failed (threw, ran too long, ran out of memory, answered
    /// nonsense): nothing was sent. Retried, so that fixing the script is enough, and never
    /// held against the destination, which was not asked.
    Transform(String),
}

impl Outcome {
    /// The HTTP status, when the destination answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Status(status, _) => Some(*status),
            _ => None,
        }
    }

    /// The transport error for the attempt log (`timeout`, `connect: …`, `transport: …`,
    /// `tls: …`, `transform_error: …`); `None` when the destination answered, whatever the
    /// status.
    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Status(..) | Outcome::Confirmed => None,
            other => Some(other.to_string()),
        }
    }

    /// Whether the destination itself failed, which counts against its circuit: a retryable
    /// failure other than a transform's.
    pub fn counts_against_destination(&self) -> bool {
        self.is_retryable() && !matches!(self, Outcome::Transform(_))
    }

    /// A 2xx answer.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Status(200..=299, _) | Outcome::Confirmed)
    }

    /// A failure worth trying again: 408, 425, 429, 5xx, timeouts, transport errors and failed
    /// transforms.
    pub fn is_retryable(&self) -> bool {
        match self {
            Outcome::Status(status, _) => matches!(status, 408 | 425 | 429 | 500..=599),
            Outcome::Confirmed => false,
            Outcome::Timeout
            | Outcome::Connect(_)
            | Outcome::Transport(_)
            | Outcome::Tls(_)
            | Outcome::Refused(_)
            | Outcome::Transform(_) => true,
        }
    }

    /// The `Retry-After` to honour: only on 429 and 503, where HTTP defines it for retries.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Outcome::Status(429 | 503, retry_after) => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(status, _) => write!(f, "HTTP {status}"),
            Outcome::Confirmed => f.write_str("confirmed"),
            Outcome::Timeout => f.write_str("timeout"),
            Outcome::Connect(detail) => write!(f, "connect: {detail}"),
            Outcome::Transport(detail) => write!(f, "transport: {detail}"),
            Outcome::Tls(detail) => write!(f, "tls: {detail}"),
            Outcome::Refused(reason) => write!(f, "nack: {reason}"),
            Outcome::Transform(why) => write!(f, "transform_error: {why}"),
        }
    }
}

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The destination accepted it.
    Delivered,
    /// Try again once `after` has passed.
    Retry { after: Duration },
    /// Give up; `reason` is shown to operators.
    Dead { reason: String },
}

/// A destination's retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The cap of the first retry's wait; doubles with each attempt.
    pub backoff_base: Duration,
    /// No computed wait exceeds this (only a destination's own `Retry-After` may).
    pub backoff_max: Duration,
}

impl RetryPolicy {
    /// The policy configured for `destination`.
    pub fn for_destination(destination: &DestinationConfig) -> RetryPolicy {
        RetryPolicy {
            max_attempts: destination.max_attempts,
            backoff_base: Duration::from_millis(destination.backoff_base_ms),
            backoff_max: Duration::from_millis(destination.backoff_max_ms),
        }
    }

    /// The step after attempt number `attempt` (1-based) ended in `outcome`. `jitter` is a
    /// random fraction in `[0, 1)` (see [`jitter`]); values outside are clamped.
    ///
    /// A retry waits `jitter × min(backoff_max, backoff_base × 2^(attempt−1))` (full jitter),
    /// and at least the `Retry-After` of a 429 or 503, up to [`RETRY_AFTER_CAP`].
    pub fn next_step(&self, attempt: u32, outcome: &Outcome, jitter: f64) -> Step {
        if outcome.is_success() {
            return Step::Delivered;
        }
        if !outcome.is_retryable() {
            return Step::Dead {
                reason: format!("{outcome} is not retried"),
            };
        }
        if attempt >= self.max_attempts {
            return Step::Dead {
                reason: format!("exhausted after {attempt} attempts; last: {outcome}"),
            };
        }
        let backoff = jittered(self.backoff(attempt), jitter);
        let floor = outcome
            .retry_after()
            .unwrap_or_default()
            .min(RETRY_AFTER_CAP);
        Step::Retry {
            after: backoff.max(floor),
        }
    }

    /// The un-jittered wait after `attempt`: `min(backoff_max, backoff_base × 2^(attempt−1))`.
    fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1);
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.backoff_base
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.backoff_max)
    }
}

/// `fraction × wait`, the fraction clamped to `[0, 1]` (NaN counts as 0).
fn jittered(wait: Duration, fraction: f64) -> Duration {
    let fraction = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    // Rounding near `Duration::MAX` may overshoot it; the unjittered wait is then the answer.
    Duration::try_from_secs_f64(wait.as_secs_f64() * fraction).unwrap_or(wait)
}

/// A random fraction in `[0, 1)` for [`RetryPolicy::next_step`]: splitmix64 over a counter
/// seeded from the clock. Spreads retries apart; not for anything secret.
pub fn jitter() -> f64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    });
    let step = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut z = seed.wrapping_add(step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // The top 53 bits fill an f64 mantissa exactly, so the result is below 1.
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses a `Retry-After` value, delta-seconds or an IMF-fixdate such as
/// `Wed, 21 Oct 2015 07:28:00 GMT`, into a wait from `now_unix`. A date in the past means no
/// wait. The obsolete RFC 850 and asctime date forms are not accepted.
pub fn parse_retry_after(value: &str, now_unix: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = PrimitiveDateTime::parse(value, format).ok()?.assume_utc();
    let seconds = at.unix_timestamp().saturating_sub(now_unix);
    Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            backoff_base: 2 * SECOND,
            backoff_max: 60 * SECOND,
        }
    }

    fn retry_after(step: Step) -> Duration {
        match step {
            Step::Retry { after } => after,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    fn is_dead(step: &Step) -> bool {
        matches!(step, Step::Dead { .. })
    }

    #[test]
    fn three_server_errors_then_ok_retry_three_times_then_deliver() {
        let policy = policy(15);
        let outcomes = [500, 500, 500, 200].map(|status| Outcome::Status(status, None));
        let steps: Vec<Step> = outcomes
            .iter()
            .zip(1..)
            .map(|(outcome, attempt)| policy.next_step(attempt, outcome, 0.5))
            .collect();
        assert_eq!(
            steps,
            [
                Step::Retry { after: SECOND },
                Step::Retry { after: 2 * SECOND },
                Step::Retry { after: 4 * SECOND },
                Step::Delivered,
            ]
        );
    }

    #[test]
    fn every_2xx_is_delivered_even_on_the_last_attempt() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(
                policy(1).next_step(1, &Outcome::Status(status, None), 0.3),
                Step::Delivered
            );
        }
    }

    #[test]
    fn retryable_statuses_and_transport_failures_are_retried() {
        let outcomes = [408, 425, 429, 500, 502, 503, 504, 599]
            .map(|status| Outcome::Status(status, None))
            .into_iter()
            .chain([
                Outcome::Timeout,
                Outcome::Connect("refused".into()),
                Outcome::Transport("reset".into()),
                Outcome::Tls("certificate expired".into()),
            ]);
        for outcome in outcomes {
            let step = policy(15).next_step(3, &outcome, 0.99);
            assert!(matches!(step, Step::Retry { .. }), "{outcome}: {step:?}");
        }
    }

    #[test]
    fn other_4xx_3xx_and_1xx_are_dead_at_once() {
        for status in [400, 401, 403, 404, 409, 410, 422, 301, 302, 304, 100, 600] {
            let step = policy(15).next_step(1, &Outcome::Status(status, None), 0.5);
            assert_eq!(
                step,
                Step::Dead {
                    reason: format!("HTTP {status} is not retried")
                }
            );
        }
    }

    #[test]
    fn a_failure_on_the_last_attempt_is_dead_with_the_count() {
        let step = policy(4).next_step(4, &Outcome::Status(503, None), 0.5);
        assert_eq!(
            step,
            Step::Dead {
                reason: "exhausted after 4 attempts; last: HTTP 503".into()
            }
        );
        assert!(is_dead(&policy(4).next_step(5, &Outcome::Timeout, 0.5)));
        assert!(!is_dead(&policy(4).next_step(3, &Outcome::Timeout, 0.5)));
    }

    #[test]
    fn the_upper_bound_doubles_then_stays_at_the_cap() {
        let policy = policy(u32::MAX);
        let almost_one = 1.0 - f64::EPSILON;
        let bounds: Vec<Duration> = (1..=40)
            .map(|attempt| retry_after(policy.next_step(attempt, &Outcome::Timeout, almost_one)))
            .collect();
        for pair in bounds.windows(2) {
            assert!(pair[0] <= pair[1], "{bounds:?}");
        }
        assert!(bounds[0] <= 2 * SECOND && bounds[0] > SECOND);
        assert!(bounds[4] <= 32 * SECOND && bounds[4] > 16 * SECOND);
        assert!(bounds.iter().all(|wait| *wait <= 60 * SECOND));
        assert!(bounds[39] > 59 * SECOND);
    }

    #[test]
    fn huge_attempt_numbers_and_bases_do_not_overflow() {
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            backoff_base: Duration::MAX,
            backoff_max: Duration::MAX,
        };
        let after = retry_after(policy.next_step(u32::MAX - 1, &Outcome::Timeout, 0.5));
        assert!(after > Duration::from_secs(u64::MAX / 4));
        let almost_one = 1.0 - f64::EPSILON;
        let after = retry_after(policy.next_step(64, &Outcome::Timeout, almost_one));
        assert!(after > Duration::from_secs(u64::MAX / 2));
    }

    #[test]
    fn jitter_outside_the_unit_interval_is_clamped() {
        let policy = policy(15);
        assert_eq!(
            retry_after(policy.next_step(2, &Outcome::Timeout, -3.0)),
            Duration::ZERO
        );
        assert_eq!(
            retry_after(policy.next_step(2, &Outcome::Timeout, f64::NAN)),
            Duration::ZERO
        );
        assert_eq!(
            retry_after(policy.next_step(2, &Outcome::Timeout, 7.0)),
            4 * SECOND
        );
    }

    #[test]
    fn retry_after_on_429_and_503_is_a_lower_bound() {
        let policy = policy(15);
        let slow_down = Outcome::Status(429, Some(90 * SECOND));
        assert_eq!(
            retry_after(policy.next_step(1, &slow_down, 0.0)),
            90 * SECOND
        );
        let unavailable = Outcome::Status(503, Some(SECOND));
        assert_eq!(
            retry_after(policy.next_step(4, &unavailable, 0.5)),
            8 * SECOND
        );
    }

    #[test]
    fn retry_after_on_other_statuses_is_ignored() {
        let outcome = Outcome::Status(500, Some(90 * SECOND));
        assert_eq!(retry_after(policy(15).next_step(1, &outcome, 0.5)), SECOND);
    }

    #[test]
    fn retry_after_is_capped_at_a_day() {
        let outcome = Outcome::Status(503, Some(RETRY_AFTER_CAP * 30));
        assert_eq!(
            retry_after(policy(15).next_step(1, &outcome, 0.5)),
            RETRY_AFTER_CAP
        );
    }

    #[test]
    fn the_destination_config_sets_the_policy() {
        let destination = super::super::test_destination("http://127.0.0.1:9/");
        let policy = RetryPolicy::for_destination(&destination);
        assert_eq!(policy.max_attempts, destination.max_attempts);
        assert_eq!(
            policy.backoff_base.as_millis(),
            u128::from(destination.backoff_base_ms)
        );
        assert_eq!(
            policy.backoff_max.as_millis(),
            u128::from(destination.backoff_max_ms)
        );
    }

    #[test]
    fn outcomes_report_status_and_error() {
        assert_eq!(Outcome::Status(503, None).status(), Some(503));
        assert_eq!(Outcome::Status(503, None).error(), None);
        assert_eq!(Outcome::Timeout.status(), None);
        assert_eq!(Outcome::Timeout.error().as_deref(), Some("timeout"));
        let refused = Outcome::Connect("Connection refused".into());
        assert_eq!(
            refused.error().as_deref(),
            Some("connect: Connection refused")
        );
        let reset = Outcome::Transport("reset".into());
        assert_eq!(reset.error().as_deref(), Some("transport: reset"));
        let expired = Outcome::Tls("certificate expired".into());
        assert_eq!(expired.error().as_deref(), Some("tls: certificate expired"));
    }

    #[test]
    fn jitter_is_a_spread_of_fractions_below_one() {
        let samples: Vec<f64> = (0..1000).map(|_| jitter()).collect();
        assert!(samples.iter().all(|f| (0.0..1.0).contains(f)));
        assert!(samples.iter().any(|f| *f < 0.25) && samples.iter().any(|f| *f > 0.75));
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        assert_eq!(sorted.len(), samples.len());
    }

    #[test]
    fn retry_after_parses_seconds() {
        assert_eq!(parse_retry_after("7", 0), Some(7 * SECOND));
        assert_eq!(parse_retry_after(" 120 ", 0), Some(120 * SECOND));
        assert_eq!(parse_retry_after("0", 0), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_parses_http_dates() {
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            parse_retry_after(date, 1_445_412_480 - 30),
            Some(30 * SECOND)
        );
        assert_eq!(
            parse_retry_after(date, 1_445_412_480 + 30),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_rejects_anything_else() {
        for value in [
            "",
            "-5",
            "1.5",
            "soon",
            "99999999999999999999999",
            "Wed, 21 Oct 2015 07:28:00 PST",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed, 32 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(value, 0), None, "{value:?}");
        }
    }
}
