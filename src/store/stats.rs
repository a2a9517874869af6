//! Totals for `/admin/stats`, fast on a large database.
//!
//! Counting a million events on every request would take hundreds of milliseconds, so the
//! large totals (events received per source, deliveries created per destination) come from a
//! rollup, `stats_rollup`, plus a live count of the rows the rollup has not absorbed yet. The
//! rollup is advanced in the background ([`Store::fold_stats`]) over rows older than a lag,
//! never from the ingest path: ids are UUIDv7, so "not absorbed yet" is the id range at or
//! above the watermark, one primary-key range scan. The small sets (pending, in flight, dead)
//! are counted exactly through their partial indexes. Delivered is what was created and is
//! neither pending nor dead, so it needs no index of its own.
//!
//! The totals are exact provided no row commits later than the lag after its id was made
//! (ids are made at receipt, commits follow within the statement timeout) and retention only
//! purges delivered events; they count everything ever received, purged or not.

use super::{Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

/// Events received from one source.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct SourceStats {
    pub source: String,
    pub received: i64,
}

/// Where the deliveries to one destination stand.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DestinationStats {
    pub destination: String,
    pub delivered: i64,
    /// Waiting or in flight.
    pub pending: i64,
    pub dead: i64,
    /// Seconds since the oldest pending delivery was created; null when none is pending.
    pub oldest_pending_age_secs: Option<f64>,
}

/// Both tables of `/admin/stats`, from one snapshot.
#[derive(Debug, Clone)]
pub struct Stats {
    pub sources: Vec<SourceStats>,
    pub destinations: Vec<DestinationStats>,
}

/// A table the rollup keeps totals of, and the column it totals by.
#[derive(Debug, Clone, Copy)]
enum Rollup {
    Events,
    Deliveries,
}

impl Rollup {
    fn kind(self) -> &'static str {
        match self {
            Rollup::Events => "events",
            Rollup::Deliveries => "deliveries",
        }
    }

    /// `sql` with `{table}` and `{key}` filled in (fixed identifiers, never input).
    fn sql(self, sql: &str) -> String {
        let key = match self {
            Rollup::Events => "source_id",
            Rollup::Deliveries => "destination_id",
        };
        sql.replace("{table}", self.kind()).replace("{key}", key)
    }
}

/// Rows absorbed per fold statement, so catching up never holds a long transaction.
const FOLD_CHUNK: i64 = 50_000;

const SELECT_WATERMARKS: &str = "SELECT kind, below FROM stats_watermarks";

const SELECT_SOURCES: &str = r#"
SELECT key AS source, sum(n)::bigint AS received FROM (
    SELECT key, count AS n FROM stats_rollup WHERE kind = 'events'
    UNION ALL
    SELECT source_id, count(*) FROM events WHERE id >= $1 GROUP BY source_id
) t
GROUP BY key ORDER BY key
"#;

const SELECT_DESTINATIONS: &str = r#"
WITH created AS (
    SELECT key, sum(n)::bigint AS n FROM (
        SELECT key, count AS n FROM stats_rollup WHERE kind = 'deliveries'
        UNION ALL
        SELECT destination_id, count(*) FROM deliveries WHERE id >= $1 GROUP BY destination_id
    ) t GROUP BY key
), open AS (
    SELECT key, sum(n)::bigint AS n, min(oldest) AS oldest FROM (
        SELECT destination_id AS key, count(*) AS n, min(created_at) AS oldest
        FROM deliveries WHERE state = 'pending' GROUP BY destination_id
        UNION ALL
        SELECT destination_id, count(*), min(created_at)
        FROM deliveries WHERE state = 'in_flight' AND lease_until IS NOT NULL
        GROUP BY destination_id
    ) t GROUP BY key
), dead AS (
    SELECT destination_id AS key, count(*) AS n FROM deliveries WHERE state = 'dead'
    GROUP BY destination_id
)
SELECT c.key AS destination,
       GREATEST(c.n - COALESCE(o.n, 0) - COALESCE(d.n, 0), 0) AS delivered,
       COALESCE(o.n, 0) AS pending,
       COALESCE(d.n, 0) AS dead,
       EXTRACT(EPOCH FROM now() - o.oldest)::float8 AS oldest_pending_age_secs
FROM created c LEFT JOIN open o USING (key) LEFT JOIN dead d USING (key)
ORDER BY c.key
"#;

const LOCK_WATERMARK: &str = "SELECT below FROM stats_watermarks WHERE kind = $1 FOR UPDATE";

const CHUNK_END: &str = r#"
SELECT id FROM {table} WHERE id >= $1 AND id < $2 ORDER BY id OFFSET $3 LIMIT 1
"#;

const FOLD: &str = r#"
INSERT INTO stats_rollup (kind, key, count)
SELECT $1, {key}, count(*) FROM {table} WHERE id >= $2 AND id < $3 GROUP BY {key}
ON CONFLICT (kind, key) DO UPDATE SET count = stats_rollup.count + EXCLUDED.count
"#;

const MOVE_WATERMARK: &str = "UPDATE stats_watermarks SET below = $2 WHERE kind = $1";

impl Store {
    /// Received per source and delivery states per destination, from one snapshot.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let marks: Vec<(String, Uuid)> = sqlx::query_as(SELECT_WATERMARKS)
            .fetch_all(&mut *tx)
            .await?;
        let mark = |kind: Rollup| {
            marks
                .iter()
                .find(|(k, _)| k == kind.kind())
                .map_or(Uuid::nil(), |(_, below)| *below)
        };
        let sources = sqlx::query_as(SELECT_SOURCES)
            .bind(mark(Rollup::Events))
            .fetch_all(&mut *tx)
            .await?;
        let destinations = sqlx::query_as(SELECT_DESTINATIONS)
            .bind(mark(Rollup::Deliveries))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Stats {
            sources,
            destinations,
        })
    }

    /// Absorbs every row with an id below `cutoff` into the stats rollup, a chunk per
    /// transaction. Safe to run from several processes at once.
    pub async fn fold_stats(&self, cutoff: Uuid) -> Result<(), StoreError> {
        for rollup in [Rollup::Events, Rollup::Deliveries] {
            while !self.fold_chunk(rollup, cutoff).await? {}
        }
        Ok(())
    }

    /// Folds up to [`FOLD_CHUNK`] rows; answers whether the rollup has reached `cutoff`.
    async fn fold_chunk(&self, rollup: Rollup, cutoff: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let below: Uuid = sqlx::query_scalar(LOCK_WATERMARK)
            .bind(rollup.kind())
            .fetch_one(&mut *tx)
            .await?;
        if below >= cutoff {
            return Ok(true);
        }
        let chunk_end: Option<Uuid> = sqlx::query_scalar(&rollup.sql(CHUNK_END))
            .bind(below)
            .bind(cutoff)
            .bind(FOLD_CHUNK)
            .fetch_optional(&mut *tx)
            .await?;
        let end = chunk_end.unwrap_or(cutoff);
        sqlx::query(&rollup.sql(FOLD))
            .bind(rollup.kind())
            .bind(below)
            .bind(end)
            .execute(&mut *tx)
            .await?;
        sqlx::query(MOVE_WATERMARK)
            .bind(rollup.kind())
            .bind(end)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(end == cutoff)
    }
}

/// The rollup's cutoff at `now`: rows younger than `lag` are left to the live count.
pub fn stats_cutoff(now: OffsetDateTime, lag: time::Duration) -> Uuid {
    super::id_time::first_id_at(now - lag)
}
