//! The storage ceiling: how fast this Postgres inserts rows shaped like hookgate's events
//! (~1 KB body, small JSON headers, unique `(source_id, event_id)`), durably
//! (`synchronous_commit = on`), from several connections at once, in 50-row transactions and
//! in single-row transactions. It writes to a scratch table that it drops afterwards.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::time::Instant;

/// The scratch table; created and dropped by each run.
const TABLE: &str = "hookgate_bench_ceiling";

/// Rows per second for each transaction size.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PgCeiling {
    pub connections: usize,
    pub body_bytes: usize,
    /// Rows/s with 50 rows per transaction (one multi-row INSERT, one COMMIT).
    pub batched_rows_per_sec: f64,
    /// Rows/s (= commits/s) with one row per transaction.
    pub single_rows_per_sec: f64,
}

impl PgCeiling {
    /// Prints the human-readable report.
    pub fn print(&self) {
        println!(
            "== Postgres ceiling: {} connections, {} B rows, synchronous_commit on",
            self.connections, self.body_bytes
        );
        println!(
            "   50-row transactions {:.0} rows/s",
            self.batched_rows_per_sec
        );
        println!(
            "   1-row transactions  {:.0} rows/s",
            self.single_rows_per_sec
        );
    }
}

/// Measures both transaction sizes for `duration` each.
pub async fn measure(
    database_url: &str,
    connections: usize,
    duration: Duration,
    body_bytes: usize,
) -> anyhow::Result<PgCeiling> {
    let pool = PgPoolOptions::new()
        .max_connections(connections as u32)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("SET synchronous_commit = on")
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        })
        .connect(database_url)
        .await?;
    sqlx::query(&format!("DROP TABLE IF EXISTS {TABLE}"))
        .execute(&pool)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {TABLE} (id uuid PRIMARY KEY, source_id text NOT NULL, event_id text NOT NULL, \
         received_at timestamptz NOT NULL, headers jsonb NOT NULL, body bytea NOT NULL, \
         UNIQUE (source_id, event_id))"
    ))
    .execute(&pool)
    .await?;
    let body = vec![b'x'; body_bytes];
    let batched = rows_per_sec(&pool, connections, duration, 50, &body).await?;
    let single = rows_per_sec(&pool, connections, duration, 1, &body).await?;
    sqlx::query(&format!("DROP TABLE {TABLE}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(PgCeiling {
        connections,
        body_bytes,
        batched_rows_per_sec: batched,
        single_rows_per_sec: single,
    })
}

/// Inserts `rows` rows per transaction from `connections` tasks for `duration`.
async fn rows_per_sec(
    pool: &PgPool,
    connections: usize,
    duration: Duration,
    rows: usize,
    body: &[u8],
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let end = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let pool = pool.clone();
            let body = body.to_vec();
            tokio::spawn(async move {
                let mut inserted = 0u64;
                while Instant::now() < end {
                    insert_batch(&pool, rows, &body).await?;
                    inserted += rows as u64;
                }
                anyhow::Ok(inserted)
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        inserted += task.await??;
    }
    Ok(inserted as f64 / start.elapsed().as_secs_f64())
}

/// One transaction of `rows` rows, written with one `UNNEST` insert as hookgate's writer does.
async fn insert_batch(pool: &PgPool, rows: usize, body: &[u8]) -> anyhow::Result<()> {
    let ids: Vec<uuid::Uuid> = (0..rows).map(|_| uuid::Uuid::now_v7()).collect();
    let event_ids: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    let bodies: Vec<&[u8]> = vec![body; rows];
    let mut tx = pool.begin().await?;
    sqlx::query(&format!(
        "INSERT INTO {TABLE} (id, source_id, event_id, received_at, headers, body) \
         SELECT id, 'bench', event_id, now(), \
         '{{\"content-type\":\"application/json\",\"x-github-event\":\"ping\"}}'::jsonb, body \
         FROM UNNEST($1::uuid[], $2::text[], $3::bytea[]) AS t(id, event_id, body)"
    ))
    .bind(&ids)
    .bind(&event_ids)
    .bind(&bodies)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
