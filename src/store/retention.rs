//! Purging old events whose deliveries are all done.

use super::{Store, StoreError};
use time::OffsetDateTime;

/// Oldest first through `events_received_at`; rows another transaction holds (an ingest
/// duplicate check, a replay adding a delivery) are skipped, not waited for. Deliveries and
/// attempts go with their event (`ON DELETE CASCADE`).
const PURGE_DELIVERED: &str = r#"
WITH doomed AS (
    SELECT e.id FROM events e
    WHERE e.received_at < $1
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state <> 'delivered')
    ORDER BY e.received_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
DELETE FROM events e USING doomed WHERE e.id = doomed.id
"#;

impl Store {
    /// Deletes up to `limit` events received before `cutoff` whose deliveries were all
    /// delivered (or that have none); answers how many.
    pub async fn purge_delivered_events(
        &self,
        cutoff: OffsetDateTime,
        limit: i64,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(PURGE_DELIVERED)
            .bind(cutoff)
            .bind(limit)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
