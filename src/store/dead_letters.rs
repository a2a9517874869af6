//! The console's dead letters: exactly the dead deliveries a bulk replay of the same filter
//! would take (the replay's own match, so what the page counts is what a redrive does),
//! grouped by destination and by failure reason, and listed most recently failed first.

use super::replays::{match_arguments, matching};
use super::{DeliveryPosition, DeliverySummary, ReplayFilter, Store, StoreError};
use sqlx::Arguments;
use time::OffsetDateTime;

/// Dead deliveries sharing a destination, or a failure reason (the other is `None`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetterGroup {
    pub destination: Option<String>,
    pub reason: Option<String>,
    pub count: i64,
    /// When the most recent of them failed.
    pub latest: OffsetDateTime,
}

/// A failure's kind: the HTTP status the destination last answered, else the class of the
/// last transport error (`timeout`, `connect`, `tls`, `transport`) without its detail, which
/// the retry policy's reason ends with ("exhausted after 15 attempts; last: connect: …"),
/// else the reason's first words ("lease expired").
macro_rules! reason {
    () => {
        "COALESCE('HTTP ' || d.last_status, substring(d.last_error from 'last: ([a-z ]+)'), \
         split_part(d.last_error, ':', 1), 'unknown')"
    };
}

/// Both groupings in one pass over the matching rows.
const GROUPS: &str = concat!(
    "WITH dead AS (SELECT d.destination_id AS destination, ",
    reason!(),
    " AS reason, d.updated_at ",
    matching!(),
    r#")
SELECT destination, reason, count(*) AS count, max(updated_at) AS latest
FROM dead
GROUP BY GROUPING SETS ((destination), (reason))
ORDER BY count DESC, destination, reason
"#
);

/// Parameters after the match's: $7 and $8 the position after which the page starts, $9
/// the page size.
const LIST: &str = concat!(
    r#"SELECT d.id, d.event_id,
       (SELECT e.source_id FROM events e WHERE e.id = d.event_id) AS source,
       d.destination_id AS destination, d.state, d.attempts, d.last_status, d.last_error,
       d.updated_at "#,
    matching!(),
    r#"  AND ($7::timestamptz IS NULL OR (d.updated_at, d.id) < ($7, $8))
ORDER BY d.updated_at DESC, d.id DESC
LIMIT $9
"#
);

impl Store {
    /// The deliveries to `destinations` that `filter` matches, counted by destination and by
    /// failure reason, largest first.
    pub async fn dead_letter_groups(
        &self,
        filter: &ReplayFilter,
        destinations: &[String],
    ) -> Result<Vec<DeadLetterGroup>, StoreError> {
        let args = match_arguments(filter, destinations)?;
        Ok(sqlx::query_as_with(GROUPS, args)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Up to `limit` of the deliveries to `destinations` that `filter` matches, most recently
    /// changed first, after `after` (the last of the previous page).
    pub async fn dead_letters(
        &self,
        filter: &ReplayFilter,
        destinations: &[String],
        after: Option<DeliveryPosition>,
        limit: u32,
    ) -> Result<Vec<DeliverySummary>, StoreError> {
        let mut args = match_arguments(filter, destinations)?;
        args.add(after.map(|p| p.updated_at))
            .map_err(sqlx::Error::Encode)?;
        args.add(after.map(|p| p.id)).map_err(sqlx::Error::Encode)?;
        args.add(i64::from(limit)).map_err(sqlx::Error::Encode)?;
        Ok(sqlx::query_as_with(LIST, args)
            .fetch_all(&self.pool)
            .await?)
    }
}
