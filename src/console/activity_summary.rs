//! The last hour of per-minute activity (`activity_minutes`), summed up for the overview and
//! the sources and destinations pages: per-minute series for the charts, per source accepted,
//! duplicate and rejected, per destination attempts, success rate and latency percentiles
//! (from the histogram buckets: "at most this many ms").

use crate::activity::SLOWER;
use crate::store::ActivityRow;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// Minutes in a summary: the current one and the 59 before it.
pub const MINUTES: usize = 60;

/// Counts per minute, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series(pub [i64; MINUTES]);

impl Default for Series {
    fn default() -> Series {
        Series([0; MINUTES])
    }
}

impl std::ops::Deref for Series {
    type Target = [i64; MINUTES];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Series {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// One source's requests in the hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceActivity {
    pub accepted: i64,
    pub duplicate: i64,
    pub rejected: i64,
    /// Accepted and duplicate requests per minute.
    pub series: Series,
}

impl SourceActivity {
    /// Rejected requests as a share of all, when there were any.
    pub fn rejected_share(&self) -> Option<f64> {
        share(
            self.rejected,
            self.accepted + self.duplicate + self.rejected,
        )
    }
}

/// One destination's attempts in the hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationActivity {
    pub succeeded: i64,
    pub failed: i64,
    /// Attempts per minute.
    pub series: Series,
    /// Failed attempts per minute.
    pub failures: Series,
    /// Attempts per latency bucket (its upper bound in ms).
    latency: BTreeMap<i32, i64>,
}

impl DestinationActivity {
    pub fn attempts(&self) -> i64 {
        self.succeeded + self.failed
    }

    /// Successful attempts as a share of all, when there were any.
    pub fn success_rate(&self) -> Option<f64> {
        share(self.succeeded, self.attempts())
    }

    /// The latency `quantile` (0 to 1) of the attempts stays within: the upper bound of
    /// the bucket it falls in, in ms ([`SLOWER`] when beyond the last bound); `None` without
    /// attempts.
    pub fn latency_within_ms(&self, quantile: f64) -> Option<i32> {
        let total = self.attempts();
        if total == 0 {
            return None;
        }
        let rank = ((quantile * total as f64).ceil() as i64).max(1);
        let mut seen = 0;
        for (bound, count) in &self.latency {
            seen += count;
            if seen >= rank {
                return Some(*bound);
            }
        }
        Some(SLOWER)
    }
}

/// Everything in the hour.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub sources: BTreeMap<String, SourceActivity>,
    pub destinations: BTreeMap<String, DestinationActivity>,
    /// Accepted and duplicate requests per minute, every source.
    pub ingested: Series,
    /// Delivery attempts per minute, every destination.
    pub attempted: Series,
    /// Failed attempts per minute, every destination.
    pub failed: Series,
}

impl Summary {
    /// Sums `rows` over the hour that ends with the minute of `now`.
    pub fn of(rows: &[ActivityRow], now: OffsetDateTime) -> Summary {
        let first = start(now);
        let mut summary = Summary::default();
        for row in rows {
            let index = (row.minute - first).whole_minutes();
            let Ok(index) = usize::try_from(index) else {
                continue;
            };
            if index >= MINUTES {
                continue;
            }
            match row.kind.as_str() {
                "ingest" => {
                    let source = summary.sources.entry(row.key.clone()).or_default();
                    match row.outcome.as_str() {
                        "accepted" => source.accepted += row.count,
                        "duplicate" => source.duplicate += row.count,
                        _ => {
                            source.rejected += row.count;
                            continue;
                        }
                    }
                    source.series[index] += row.count;
                    summary.ingested[index] += row.count;
                }
                "delivery" => {
                    let destination = summary.destinations.entry(row.key.clone()).or_default();
                    if row.outcome == "success" {
                        destination.succeeded += row.count;
                    } else {
                        destination.failed += row.count;
                        destination.failures[index] += row.count;
                        summary.failed[index] += row.count;
                    }
                    destination.series[index] += row.count;
                    *destination.latency.entry(row.le_ms).or_default() += row.count;
                    summary.attempted[index] += row.count;
                }
                _ => {}
            }
        }
        summary
    }
}

/// The first minute of the hour that ends with the minute of `now`: where to read from.
pub fn start(now: OffsetDateTime) -> OffsetDateTime {
    let minute = now.unix_timestamp().div_euclid(60) * 60;
    OffsetDateTime::from_unix_timestamp(minute).unwrap_or(now)
        - Duration::minutes(MINUTES as i64 - 1)
}

/// The average per minute over the last `minutes` minutes of `series`, the current one
/// (still counting) included.
pub fn rate_per_minute(series: &Series, minutes: usize) -> f64 {
    let recent = &series[MINUTES - minutes.clamp(1, MINUTES)..];
    recent.iter().sum::<i64>() as f64 / recent.len() as f64
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-06-15 12:30:40 UTC);

    fn row(
        minute: OffsetDateTime,
        kind: &str,
        key: &str,
        outcome: &str,
        le_ms: i32,
        count: i64,
    ) -> ActivityRow {
        ActivityRow {
            minute,
            kind: kind.into(),
            key: key.into(),
            outcome: outcome.into(),
            le_ms,
            count,
        }
    }

    #[test]
    fn rows_land_in_their_minute_and_old_ones_are_left_out() {
        let rows = [
            row(
                datetime!(2025-06-15 12:30 UTC),
                "ingest",
                "stripe",
                "accepted",
                0,
                4,
            ),
            row(
                datetime!(2025-06-15 11:31 UTC),
                "ingest",
                "stripe",
                "duplicate",
                0,
                1,
            ),
            row(
                datetime!(2025-06-15 11:31 UTC),
                "ingest",
                "stripe",
                "rejected",
                0,
                5,
            ),
            row(
                datetime!(2025-06-15 11:30 UTC),
                "ingest",
                "stripe",
                "accepted",
                0,
                100,
            ),
        ];
        let summary = Summary::of(&rows, NOW);
        let stripe = &summary.sources["stripe"];
        assert_eq!(
            (stripe.accepted, stripe.duplicate, stripe.rejected),
            (4, 1, 5)
        );
        assert_eq!(summary.ingested[MINUTES - 1], 4);
        assert_eq!(summary.ingested[0], 1, "rejected requests are not ingested");
        assert_eq!(stripe.rejected_share(), Some(0.5));
    }

    #[test]
    fn success_rate_and_percentiles_come_from_the_buckets() {
        let minute = datetime!(2025-06-15 12:29 UTC);
        let rows = [
            row(minute, "delivery", "billing", "success", 50, 90),
            row(minute, "delivery", "billing", "success", 250, 8),
            row(minute, "delivery", "billing", "failure", SLOWER, 2),
        ];
        let summary = Summary::of(&rows, NOW);
        let billing = &summary.destinations["billing"];
        assert_eq!(billing.attempts(), 100);
        assert_eq!(billing.success_rate(), Some(0.98));
        assert_eq!(billing.latency_within_ms(0.5), Some(50));
        assert_eq!(billing.latency_within_ms(0.98), Some(250));
        assert_eq!(billing.latency_within_ms(0.99), Some(SLOWER));
        assert_eq!(summary.failed[MINUTES - 2], 2);
        assert_eq!(billing.failures[MINUTES - 2], 2);
        assert_eq!(billing.series[MINUTES - 2], 100);
        assert_eq!(DestinationActivity::default().latency_within_ms(0.5), None);
        assert_eq!(DestinationActivity::default().success_rate(), None);
    }

    #[test]
    fn rates_average_the_last_minutes() {
        let mut series = Series::default();
        series[0] = 1000; // an hour ago
        series[MINUTES - 1] = 10;
        series[MINUTES - 2] = 20;
        assert_eq!(rate_per_minute(&series, 2), 15.0);
        assert_eq!(rate_per_minute(&series, 5), 6.0);
        assert_eq!(rate_per_minute(&series, 0), 10.0);
    }
}
