//! Per-minute activity for the console's overview: ingest requests per source (accepted,
//! duplicate, rejected) and delivery attempts per destination (succeeded or failed, with a
//! latency histogram). Each process counts in memory and adds its counts into the
//! `activity_minutes` table every few seconds, so the overview shows every instance's work and
//! the last hour survives restarts, without a write per request on the ingest path.

use crate::store::{ActivityRow, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// How often counts go to the database.
const FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// How long minutes are kept: the overview shows one hour.
const KEEP: time::Duration = time::Duration::hours(3);

/// Upper bounds of the latency histogram's buckets, in milliseconds; [`SLOWER`] holds the rest.
pub const LATENCY_BOUNDS_MS: [i32; 11] =
    [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
/// The bucket of attempts slower than the last bound.
pub const SLOWER: i32 = i32::MAX;

/// What an ingest request came to, as the overview counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    Accepted,
    Duplicate,
    /// Refused for any reason: a bad signature, too large, overloaded, …
    Rejected,
}

impl IngestOutcome {
    /// The outcome of a request whose metrics outcome label is `label` (handshakes are not
    /// webhooks and count as nothing).
    pub fn of_label(label: &str) -> Option<IngestOutcome> {
        match label {
            "accepted" => Some(IngestOutcome::Accepted),
            "duplicate" => Some(IngestOutcome::Duplicate),
            "handshake" => None,
            _ => Some(IngestOutcome::Rejected),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            IngestOutcome::Accepted => "accepted",
            IngestOutcome::Duplicate => "duplicate",
            IngestOutcome::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    /// Unix seconds of the minute's start.
    minute: i64,
    kind: &'static str,
    key: String,
    outcome: &'static str,
    le_ms: i32,
}

/// This process's counts not yet in the database. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Activity(Arc<Mutex<HashMap<Key, i64>>>);

impl Activity {
    /// One ingest request to `source` came to `outcome`.
    pub fn ingest(&self, source: &str, outcome: IngestOutcome) {
        self.add(Key {
            minute: minute_of(OffsetDateTime::now_utc()),
            kind: "ingest",
            key: source.to_owned(),
            outcome: outcome.as_str(),
            le_ms: 0,
        });
    }

    /// One delivery attempt to `destination` succeeded (a 2xx) or not, in `took`.
    pub fn delivery(&self, destination: &str, succeeded: bool, took: Duration) {
        self.add(Key {
            minute: minute_of(OffsetDateTime::now_utc()),
            kind: "delivery",
            key: destination.to_owned(),
            outcome: if succeeded { "success" } else { "failure" },
            le_ms: bucket_of(took),
        });
    }

    fn add(&self, key: Key) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(key).or_default() += 1;
        }
    }

    /// Everything counted so far, as rows; the counts start again from nothing.
    fn take(&self) -> Vec<ActivityRow> {
        let counts = match self.0.lock() {
            Ok(mut counts) => std::mem::take(&mut *counts),
            Err(_) => return Vec::new(),
        };
        let mut counts: Vec<(Key, i64)> = counts.into_iter().collect();
        // One order for every process, so concurrent upserts of the same minutes lock their
        // rows in the same order and never deadlock.
        counts.sort_by(|(a, _), (b, _)| {
            (a.minute, a.kind, &a.key, a.outcome, a.le_ms)
                .cmp(&(b.minute, b.kind, &b.key, b.outcome, b.le_ms))
        });
        counts
            .into_iter()
            .filter_map(|(key, count)| {
                Some(ActivityRow {
                    minute: OffsetDateTime::from_unix_timestamp(key.minute).ok()?,
                    kind: key.kind.to_owned(),
                    key: key.key,
                    outcome: key.outcome.to_owned(),
                    le_ms: key.le_ms,
                    count,
                })
            })
            .collect()
    }

    /// Counts that could not be written go back, to be written with the next ones.
    fn put_back(&self, rows: Vec<ActivityRow>) {
        let Ok(mut counts) = self.0.lock() else {
            return;
        };
        for row in rows {
            let (Some(kind), Some(outcome)) = (known(&row.kind), known(&row.outcome)) else {
                continue;
            };
            let key = Key {
                minute: row.minute.unix_timestamp(),
                kind,
                key: row.key,
                outcome,
                le_ms: row.le_ms,
            };
            *counts.entry(key).or_default() += row.count;
        }
    }
}

/// The static word `word` stands for (the kinds and outcomes this module writes).
fn known(word: &str) -> Option<&'static str> {
    [
        "ingest",
        "delivery",
        "accepted",
        "duplicate",
        "rejected",
        "success",
        "failure",
    ]
    .into_iter()
    .find(|known| *known == word)
}

fn minute_of(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(60) * 60
}

/// The latency bucket `took` falls in: the first bound at or above it.
fn bucket_of(took: Duration) -> i32 {
    let ms = took.as_millis();
    LATENCY_BOUNDS_MS
        .into_iter()
        .find(|bound| ms <= *bound as u128)
        .unwrap_or(SLOWER)
}

/// Writes `activity`'s counts every [`FLUSH_INTERVAL`] and forgets minutes older than
/// [`KEEP`], until `shutdown` (then writes what is left once more).
pub async fn keep_flushing(activity: Activity, store: Store, shutdown: CancellationToken) {
    loop {
        let stop = tokio::select! {
            () = tokio::time::sleep(FLUSH_INTERVAL) => false,
            () = shutdown.cancelled() => true,
        };
        let rows = activity.take();
        if !rows.is_empty()
            && let Err(err) = store.add_activity(&rows).await
        {
            tracing::debug!(error = %err, "activity not written; kept for the next try");
            activity.put_back(rows);
        }
        if let Err(err) = store
            .forget_activity(OffsetDateTime::now_utc() - KEEP)
            .await
        {
            tracing::debug!(error = %err, "old activity not pruned");
        }
        if stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_the_first_bucket_that_holds_them() {
        assert_eq!(bucket_of(Duration::from_millis(0)), 10);
        assert_eq!(bucket_of(Duration::from_millis(10)), 10);
        assert_eq!(bucket_of(Duration::from_millis(11)), 25);
        assert_eq!(bucket_of(Duration::from_secs(30)), 30_000);
        assert_eq!(bucket_of(Duration::from_secs(31)), SLOWER);
    }

    #[test]
    fn ingest_labels_count_as_accepted_duplicate_or_rejected() {
        assert_eq!(
            IngestOutcome::of_label("accepted"),
            Some(IngestOutcome::Accepted)
        );
        assert_eq!(
            IngestOutcome::of_label("duplicate"),
            Some(IngestOutcome::Duplicate)
        );
        assert_eq!(
            IngestOutcome::of_label("rejected_signature"),
            Some(IngestOutcome::Rejected)
        );
        assert_eq!(
            IngestOutcome::of_label("too_large"),
            Some(IngestOutcome::Rejected)
        );
        assert_eq!(IngestOutcome::of_label("handshake"), None);
    }

    #[test]
    fn counts_taken_are_gone_and_put_back_add_up() {
        let activity = Activity::default();
        activity.ingest("stripe", IngestOutcome::Accepted);
        activity.ingest("stripe", IngestOutcome::Accepted);
        activity.delivery("billing", true, Duration::from_millis(40));
        let rows = activity.take();
        assert_eq!(rows.len(), 2);
        assert!(activity.take().is_empty());
        activity.ingest("stripe", IngestOutcome::Accepted);
        activity.put_back(rows);
        let mut rows = activity.take();
        rows.sort_by(|a, b| a.kind.cmp(&b.kind));
        assert_eq!(
            (rows[0].kind.as_str(), rows[0].le_ms, rows[0].count),
            ("delivery", 50, 1)
        );
        assert_eq!(
            (
                rows[1].key.as_str(),
                rows[1].outcome.as_str(),
                rows[1].count
            ),
            ("stripe", "accepted", 3)
        );
    }
}
