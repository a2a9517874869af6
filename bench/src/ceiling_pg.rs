//! The storage ceiling: how fast this Postgres inserts rows shaped like hookgate's events
//! (~1 KB body, small JSON headers, unique `(source_id, event_id)`), durably
//! (`synchronous_commit = on`), from several connections at once, in 50-row transactions and
//! in single-row transactions. It writes to a scratch table that it drops afterwards.
//!
//! A third figure runs hookgate's own write (`Store::insert_events`: each event with its
//! delivery, into hookgate's schema with all its indexes) in 50-event commits, without HTTP:
//! what the storage side of hookgate could reach if requests arrived already batched.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hookgate::store::{NewDelivery, NewEvent, Store, delivery_id_for};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::time::Instant;

use crate::cpu::postgres_cpu_secs;

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
    /// Events/s through hookgate's own insert statement (event + one delivery, hookgate's
    /// schema and indexes), 50 events per commit.
    #[serde(default)]
    pub hookgate_schema_events_per_sec: f64,
    /// CPU every Postgres process spent per row of the 50-row transactions, in microseconds:
    /// the storage half of the floor a webhook's CPU is compared with.
    #[serde(default)]
    pub batched_postgres_us_per_row: Option<f64>,
    /// CPU every Postgres process spent per event of hookgate's own insert: set beside
    /// `batched_postgres_us_per_row`, what hookgate's schema costs the storage half.
    #[serde(default)]
    pub hookgate_schema_postgres_us_per_event: Option<f64>,
}

impl PgCeiling {
    /// Prints the human-readable report.
    pub fn print(&self) {
        println!(
            "== Postgres ceiling: {} connections, {} B rows, synchronous_commit on",
            self.connections, self.body_bytes
        );
        println!(
            "   50-row transactions {:.0} rows/s{}",
            self.batched_rows_per_sec,
            self.batched_postgres_us_per_row
                .map_or(String::new(), |us| format!(
                    ", Postgres CPU {us:.1} µs per row"
                ))
        );
        println!(
            "   1-row transactions  {:.0} rows/s",
            self.single_rows_per_sec
        );
        println!(
            "   hookgate's own insert (event + delivery, its schema), 50 per commit {:.0} events/s{}",
            self.hookgate_schema_events_per_sec,
            self.hookgate_schema_postgres_us_per_event
                .map_or(String::new(), |us| format!(
                    ", Postgres CPU {us:.1} µs per event"
                ))
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
    let body = Bytes::from(vec![b'x'; body_bytes]);
    let postgres_then = postgres_cpu_secs()?;
    let batched = rows_written(&pool, connections, duration, 50, &body).await?;
    let batched_postgres_secs = postgres_cpu_secs()? - postgres_then;
    let single = rows_written(&pool, connections, duration, 1, &body).await?;
    sqlx::query(&format!("DROP TABLE {TABLE}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let (hookgate_schema, hookgate_schema_postgres_secs) =
        hookgate_events_written(database_url, connections, duration, &body).await?;
    Ok(PgCeiling {
        connections,
        body_bytes,
        batched_rows_per_sec: batched.per_sec(),
        single_rows_per_sec: single.per_sec(),
        hookgate_schema_events_per_sec: hookgate_schema.per_sec(),
        batched_postgres_us_per_row: Some(1e6 * batched_postgres_secs / batched.rows.max(1) as f64),
        hookgate_schema_postgres_us_per_event: Some(
            1e6 * hookgate_schema_postgres_secs / hookgate_schema.rows.max(1) as f64,
        ),
    })
}

/// Rows some tasks wrote, and in how long.
struct Written {
    rows: u64,
    secs: f64,
}

impl Written {
    fn per_sec(&self) -> f64 {
        self.rows as f64 / self.secs.max(f64::EPSILON)
    }
}

/// Runs `step` in a loop on each of `connections` tasks for `duration`; each call answers
/// how many rows it wrote. Answers the rows of all tasks and the time they took.
async fn write_for<F, Fut>(
    connections: usize,
    duration: Duration,
    step: F,
) -> anyhow::Result<Written>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send,
{
    let start = Instant::now();
    let end = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let step = step.clone();
            tokio::spawn(async move {
                let mut written = 0u64;
                while Instant::now() < end {
                    written += step().await?;
                }
                anyhow::Ok(written)
            })
        })
        .collect();
    let mut written = 0;
    for task in tasks {
        written += task.await??;
    }
    Ok(Written {
        rows: written,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Inserts `rows` rows per transaction into the scratch table.
async fn rows_written(
    pool: &PgPool,
    connections: usize,
    duration: Duration,
    rows: usize,
    body: &Bytes,
) -> anyhow::Result<Written> {
    let (pool, body) = (pool.clone(), body.clone());
    write_for(connections, duration, move || {
        let (pool, body) = (pool.clone(), body.clone());
        async move {
            insert_batch(&pool, rows, &body).await?;
            Ok(rows as u64)
        }
    })
    .await
}

/// Events through `Store::insert_events`, 50 per call, into hookgate's schema (migrated here;
/// the database is the benchmark's scratch one), and the CPU seconds Postgres spent on them.
async fn hookgate_events_written(
    database_url: &str,
    connections: usize,
    duration: Duration,
    body: &Bytes,
) -> anyhow::Result<(Written, f64)> {
    const EVENTS_PER_COMMIT: usize = 50;
    let store = Store::connect_lazy(database_url, connections as u32)?;
    store.migrate().await?;
    let (source, destination): (Arc<str>, Arc<str>) = (Arc::from("bench"), Arc::from("sink"));
    let step_store = store.clone();
    let body = body.clone();
    let postgres_then = postgres_cpu_secs()?;
    let written = write_for(connections, duration, move || {
        let store = step_store.clone();
        let batch: Vec<NewEvent> = (0..EVENTS_PER_COMMIT)
            .map(|_| event_like_hookgates(&source, &destination, &body))
            .collect();
        async move {
            store.insert_events(&batch).await?;
            Ok(EVENTS_PER_COMMIT as u64)
        }
    })
    .await?;
    let postgres_secs = postgres_cpu_secs()? - postgres_then;
    store.close().await;
    Ok((written, postgres_secs))
}

/// A new event as hookgate's ingest builds it for the load driver's GitHub webhooks.
pub fn event_like_hookgates(source: &Arc<str>, destination: &Arc<str>, body: &Bytes) -> NewEvent {
    let delivery = uuid::Uuid::now_v7();
    let id = uuid::Uuid::now_v7();
    NewEvent {
        id,
        source_id: source.clone(),
        event_id: delivery.to_string(),
        event_type: Some("push".into()),
        received_at: time::OffsetDateTime::now_utc(),
        content_type: Some("application/json".into()),
        headers_json: format!(
            r#"{{"host":"127.0.0.1:18080","content-type":"application/json","content-length":"{}","x-github-event":"push","x-github-delivery":"{delivery}"}}"#,
            body.len()
        ),
        body: body.clone(),
        deliveries: vec![NewDelivery {
            id: delivery_id_for(id, 0),
            destination_id: destination.clone(),
            lease: None,
            ordering_key: None,
        }],
        filtered: Vec::new(),
    }
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
