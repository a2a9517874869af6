//! Ordered delivery per key: how the queue keeps a destination's `ordering` promise.
//!
//! **The rule** (the pure version, tested against a model, is [`rule`]). A delivery with an
//! `ordering_key` is claimable only as the head of its key: pending and due, with no other
//! delivery of the same destination and key that is in flight (wherever it stands), or that
//! stands before it and is pending (waiting or backing off) or, when `on_dead = "block"`,
//! dead and neither replayed since nor skipped. A key's queue runs in ingest order: event id
//! (a UUIDv7, drawn when the event is accepted), then delivery id. A replay keeps the key of
//! the event's last delivery and takes the *event's* place: it goes before every later event
//! of the key still waiting, so replaying a dead head delivers it first and unblocks the key;
//! replaying an old event delivers it next, after what is in flight. (A replay to a destination
//! the event never had a delivery to carries no key: it is unordered.) Events whose key is
//! absent, and deliveries of other destinations, are unordered as before. Two events accepted
//! concurrently have no order between them: the one whose commit a claim sees first may go
//! first.
//!
//! **Where it is enforced.** In the one claim statement pushed and pulled deliveries share
//! (`deliveries::CLAIM`), so the push workers, pull leases, lease expiry and the crash
//! reclaimer need nothing of their own: they only move deliveries between pending, in flight
//! and final states, and the head is recomputed at every claim. A lease that expires or a
//! worker that dies leaves its delivery the head of its key (nothing behind it could be
//! claimed meanwhile), so it is the only one reclaimed for its key. Ingest never hands an
//! ordered delivery straight to a local worker: it is written pending and waits for the claim.
//!
//! **Across processes.** The claim's `FOR UPDATE SKIP LOCKED` keeps two claims from taking the
//! same row, and its `NOT EXISTS` sees the key's earlier rows as of its snapshot. Deliveries
//! only ever leave the pending and in-flight states for final ones, so a snapshot that shows
//! every earlier delivery final is still right at commit time; the one case a stale snapshot
//! could get wrong (a replay taking a place before a delivery another process has just put
//! in flight) is caught by the unique partial index [`IN_FLIGHT_INDEX`]: at most one
//! delivery per destination and key is ever in flight, and a claim that would break that
//! fails whole and is answered as "nothing claimed" (the next claim sees the key held).
//!
//! **Cost per delivery.** Unordered rows pay one `ordering_key IS NULL` test. A keyed
//! candidate, met in `run_at` order through `deliveries_pending`, pays one probe of the
//! partial index `deliveries_ordering_queue (destination_id, ordering_key, event_id, id)`,
//! which holds only the key's pending, in-flight and dead rows: the probe stops at the first
//! earlier pending or any in-flight row, so it reads about one index entry for a head and for
//! most non-heads (a dead row before it adds a lookup of its event's deliveries to see whether
//! its event was replayed). The claim does not visit every waiting row: it stops at `LIMIT`
//! heads. What it may read is the non-heads that come before those heads in `run_at`
//! order: the followers of keys whose head is in flight or backing off (their `run_at` is
//! older than the retried head's). That is bounded by the backlog of busy keys, and each
//! costs one short index probe. Writes pay the two partial indexes on keyed rows only, plus
//! the unique check when a keyed delivery goes in flight.

pub mod rule;

use super::{Store, StoreError};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// The unique index that keeps a key to one delivery in flight.
pub const IN_FLIGHT_INDEX: &str = "deliveries_ordering_in_flight";

/// A key of an `on_dead = "block"` destination that waits on a dead delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BlockedKey {
    pub key: String,
    /// The dead delivery holding the key: replay its event, or skip the key.
    pub delivery_id: Uuid,
    /// Its hookgate event id.
    pub event_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub dead_since: OffsetDateTime,
    /// Deliveries of the key waiting behind it.
    pub waiting: i64,
}

/// A dead delivery (`o`) holds its key unless it was skipped or its event replayed since.
pub(super) const HOLDING_DEAD: &str = concat!(
    r#"
    o.state = 'dead' AND o.ordering_key IS NOT NULL AND o.ordering_skipped_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM deliveries r
                    WHERE "#,
    deliveries_of_event!("r", "o.event_id"),
    r#" AND r.destination_id = o.destination_id
                      AND r.id > o.id)
"#
);

impl Store {
    /// The keys of `destination` held by a dead delivery (the earliest, per key), by key; at
    /// most `limit`. Meaningful for `on_dead = "block"`: other destinations' keys go on.
    pub async fn blocked_keys(
        &self,
        destination: &str,
        limit: u32,
    ) -> Result<Vec<BlockedKey>, StoreError> {
        let query = format!(
            r#"
SELECT DISTINCT ON (o.ordering_key)
       o.ordering_key AS key, o.id AS delivery_id, o.event_id, o.updated_at AS dead_since,
       (SELECT count(*) FROM deliveries w
        WHERE w.destination_id = o.destination_id AND w.ordering_key = o.ordering_key
          AND w.state = 'pending') AS waiting
FROM deliveries o
WHERE o.destination_id = $1 AND {HOLDING_DEAD}
ORDER BY o.ordering_key, o.event_id, o.id
LIMIT $2
"#
        );
        Ok(sqlx::query_as(&query)
            .bind(destination)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Lets `key` of `destination` go on past its dead deliveries: they stay dead (and can
    /// still be replayed) but no longer hold the key. Answers the deliveries skipped; none
    /// when the key was not blocked.
    pub async fn skip_blocked_key(
        &self,
        destination: &str,
        key: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let query = format!(
            r#"
UPDATE deliveries o SET ordering_skipped_at = now()
WHERE o.destination_id = $1 AND o.ordering_key = $2 AND {HOLDING_DEAD}
RETURNING o.id
"#
        );
        Ok(sqlx::query_scalar(&query)
            .bind(destination)
            .bind(key)
            .fetch_all(&self.pool)
            .await?)
    }
}
