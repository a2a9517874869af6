//! Purging old events whose deliveries are all done, row by row where they are not in a day
//! partition that is dropped whole (src/store/partitions.rs), and vacuuming after it where
//! autovacuum does not run.

use super::{Store, StoreError};
use uuid::Uuid;

/// Oldest first by the time-ordered id (the receive time), through the primary key; events
/// another transaction holds (a replay adding deliveries holds them FOR KEY SHARE) are
/// skipped, not waited for. The events' deliveries, their attempts and the events' keys go in
/// the same statement.
const PURGE_DELIVERED: &str = concat!(
    r#"
WITH done AS (
    SELECT e.id, e.source_id, e.event_id FROM events e
    WHERE e.id < $1 AND "#,
    all_deliveries_final!(),
    r#"
    ORDER BY e.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)"#,
    delete_what_done_events_hold!(),
    "DELETE FROM events e USING done WHERE e.id = done.id"
);

/// The tables retention deletes from, besides the partitions of `events`.
const PURGED_TABLES: [&str; 3] = ["event_keys", "deliveries", "delivery_attempts"];

/// Those of [`PURGED_TABLES`] and of the partitions of `events` whose dead rows passed a tenth
/// of their live ones (plus a thousand, so small tables are left alone): autovacuum's own
/// rule, at half its default scale.
const DEAD_PILED_UP: &str = r#"
SELECT relname::text FROM pg_stat_user_tables
WHERE schemaname = current_schema()
  AND (relname = ANY($1)
       OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events'::regclass))
  AND n_dead_tup > 0.1 * n_live_tup + 1000
"#;

impl Store {
    /// Deletes up to `limit` events whose ids are below `below` and whose deliveries were all
    /// delivered or filtered out by a transform (or that have none), with those deliveries,
    /// their attempts and the events' keys; answers how many events.
    pub async fn purge_delivered_events(&self, below: Uuid, limit: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(PURGE_DELIVERED)
            .bind(below)
            .bind(limit)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Whether the server's autovacuum daemon runs: without it the space retention frees is
    /// never reused, and the tables grow by every row ever stored.
    pub async fn autovacuum_runs(&self) -> Result<bool, StoreError> {
        let setting: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
            .fetch_one(&self.pool)
            .await?;
        Ok(setting == "on")
    }

    /// Vacuums the tables retention deletes from whose dead rows have piled up (see
    /// [`DEAD_PILED_UP`]), skipping one another process is vacuuming; answers which. A plain
    /// `VACUUM` takes no lock ingest or delivery waits for: it makes the deleted rows' space
    /// reusable, as autovacuum would have.
    pub async fn vacuum_piled_up_tables(&self) -> Result<Vec<String>, StoreError> {
        let tables: Vec<String> = sqlx::query_scalar(DEAD_PILED_UP)
            .bind(&PURGED_TABLES[..])
            .fetch_all(&self.pool)
            .await?;
        for table in &tables {
            // A name from PURGED_TABLES or the catalogue, never from outside; VACUUM takes no parameters.
            let quoted = table.replace('"', "\"\"");
            sqlx::raw_sql(&format!("VACUUM (SKIP_LOCKED) \"{quoted}\""))
                .execute(&self.pool)
                .await?;
        }
        Ok(tables)
    }
}
