//! The per-minute activity counts behind the console's overview (see `src/activity.rs`), and
//! each source's newest event for its page.

use super::{Store, StoreError};
use time::OffsetDateTime;

/// Requests or attempts in one minute, for one source or destination, outcome and latency
/// bucket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActivityRow {
    pub minute: OffsetDateTime,
    /// `ingest` or `delivery`.
    pub kind: String,
    /// The source or destination id.
    pub key: String,
    pub outcome: String,
    /// The latency bucket's upper bound in milliseconds (0 for ingest).
    pub le_ms: i32,
    pub count: i64,
}

const ADD: &str = r#"
INSERT INTO activity_minutes (minute, kind, key, outcome, le_ms, count)
SELECT * FROM UNNEST($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[])
ON CONFLICT (minute, kind, key, outcome, le_ms)
DO UPDATE SET count = activity_minutes.count + EXCLUDED.count
"#;

const SINCE: &str = r#"
SELECT minute, kind, key, outcome, le_ms, count FROM activity_minutes WHERE minute >= $1
"#;

/// The newest event of each source, one index probe each (`events_source_id`).
const LAST_EVENTS: &str = r#"
SELECT s.id AS source, last.id AS event, last.received_at
FROM unnest($1::text[]) AS s(id)
CROSS JOIN LATERAL (
    SELECT e.id, e.received_at FROM events e WHERE e.source_id = s.id ORDER BY e.id DESC LIMIT 1
) last
"#;

/// A source's newest event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastEvent {
    pub source: String,
    pub event: uuid::Uuid,
    pub received_at: OffsetDateTime,
}

const FORGET: &str = "DELETE FROM activity_minutes WHERE minute < $1";

impl Store {
    /// Adds `rows` to the counts (from any number of processes at once).
    pub async fn add_activity(&self, rows: &[ActivityRow]) -> Result<(), StoreError> {
        let column = |f: fn(&ActivityRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
        sqlx::query(ADD)
            .bind(rows.iter().map(|r| r.minute).collect::<Vec<_>>())
            .bind(column(|r| r.kind.clone()))
            .bind(column(|r| r.key.clone()))
            .bind(column(|r| r.outcome.clone()))
            .bind(rows.iter().map(|r| r.le_ms).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.count).collect::<Vec<_>>())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every count of the minutes from `since` on.
    pub async fn activity_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        Ok(sqlx::query_as(SINCE)
            .bind(since)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The newest event of each of `sources` that has any.
    pub async fn last_events(&self, sources: &[String]) -> Result<Vec<LastEvent>, StoreError> {
        Ok(sqlx::query_as(LAST_EVENTS)
            .bind(sources)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Deletes the minutes before `before`.
    pub async fn forget_activity(&self, before: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(FORGET).bind(before).execute(&self.pool).await?;
        Ok(())
    }
}
