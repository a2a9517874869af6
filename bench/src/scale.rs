//! The scale phase's measurements of a large database: the on-disk size of hookgate's big
//! tables and their indexes, and hookgate's own retention purge run against it for a while
//! (the product's `retention::purge_expired`, its batches and pauses, in this process), so
//! ingest can be measured while it runs.

use std::time::Duration;

use hookgate::store::Store;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use tokio::time::Instant;

/// The tables that grow with every event (a partitioned one counts all its partitions).
const TABLES: [&str; 4] = ["events", "event_keys", "deliveries", "delivery_attempts"];

/// One table's size on disk.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableSize {
    pub table: String,
    pub rows: i64,
    /// The heap (with its TOAST), in bytes.
    pub table_bytes: i64,
    /// All its indexes, in bytes.
    pub index_bytes: i64,
    /// Dead tuples not yet vacuumed, as the statistics collector last counted them.
    pub dead_rows: i64,
}

/// Every growing table's size.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sizes {
    pub tables: Vec<TableSize>,
}

impl Sizes {
    /// The tables and indexes together, in bytes.
    pub fn total_bytes(&self) -> i64 {
        self.tables
            .iter()
            .map(|t| t.table_bytes + t.index_bytes)
            .sum()
    }

    /// Prints one line per table.
    pub fn print(&self, label: &str) {
        let gib = |bytes: i64| bytes as f64 / (1u64 << 30) as f64;
        println!(
            "== Sizes {label}: {:.2} GiB in all",
            gib(self.total_bytes())
        );
        for t in &self.tables {
            println!(
                "   {:<18} {:>11} rows  table {:>6.2} GiB  indexes {:>6.2} GiB  {} dead rows",
                t.table,
                t.rows,
                gib(t.table_bytes),
                gib(t.index_bytes),
                t.dead_rows
            );
        }
    }
}

/// Reads the sizes; row counts are the planner's estimates (exact counts of 20 million rows
/// would take longer than the phase they describe), refreshed by `ANALYZE` first.
pub async fn sizes(database_url: &str) -> anyhow::Result<Sizes> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await?;
    let mut tables = Vec::new();
    for table in TABLES {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(&pool)
            .await?;
        let (rows, table_bytes, index_bytes, dead_rows): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT sum(greatest(c.reltuples, 0))::bigint, sum(pg_table_size(c.oid))::bigint, \
                    sum(pg_indexes_size(c.oid))::bigint, sum(coalesce(s.n_dead_tup, 0))::bigint \
             FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE c.relkind = 'r' AND (c.oid = $1::regclass \
                   OR c.oid IN (SELECT relid FROM pg_partition_tree($1::regclass)))",
        )
        .bind(table)
        .fetch_one(&pool)
        .await?;
        tables.push(TableSize {
            table: table.to_owned(),
            rows,
            table_bytes,
            index_bytes,
            dead_rows,
        });
    }
    pool.close().await;
    Ok(Sizes { tables })
}

/// What a retention run purged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PurgeReport {
    /// Retention's `days`: events older than this were due.
    pub days: u32,
    /// Events deleted (with their deliveries and attempts).
    pub purged: i64,
    pub secs: f64,
    /// Whether every due event was purged (else the run was cut off at its time limit).
    pub finished: bool,
}

impl PurgeReport {
    pub fn per_sec(&self) -> f64 {
        self.purged as f64 / self.secs.max(f64::EPSILON)
    }

    pub fn print(&self) {
        println!(
            "== Retention (events older than {} days): {} events purged in {:.1} s = {:.0}/s{}",
            self.days,
            self.purged,
            self.secs,
            self.per_sec(),
            if self.finished {
                ", all that were due"
            } else {
                "; cut off with more due"
            }
        );
    }
}

/// Folds every row stored so far into the stats rollup (hookgate's `fold_stats`, no lag).
pub async fn fold_stats(database_url: &str) -> anyhow::Result<()> {
    let store = Store::connect_lazy(database_url, 1)?;
    let now = hookgate::store::stats_cutoff(time::OffsetDateTime::now_utc(), time::Duration::ZERO);
    store.fold_stats(now).await?;
    store.close().await;
    Ok(())
}

/// Events received before the cutoff, counted through the primary key: ids are UUIDv7, so
/// they are the ids below the first one of the cutoff's millisecond.
const DUE: &str = "SELECT count(*) FROM events WHERE id < \
    (lpad(to_hex((extract(epoch FROM $1::timestamptz) * 1000)::bigint), 12, '0') \
     || '00000000000000000000')::uuid";

/// Runs hookgate's retention purge for events older than `days`, until it is done or `limit`
/// has passed, then what retention does after a pass (vacuums, when the server's autovacuum is
/// off). Purged events are counted before and after; the rate is the purge's alone.
pub async fn purge(database_url: &str, days: u32, limit: Duration) -> anyhow::Result<PurgeReport> {
    let store = Store::connect_lazy(database_url, 2)?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await?;
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let due = || async {
        let count: i64 = sqlx::query_scalar(DUE)
            .bind(cutoff)
            .fetch_one(&pool)
            .await?;
        anyhow::Ok(count)
    };
    let before = due().await?;
    let started = Instant::now();
    let finished =
        match tokio::time::timeout(limit, hookgate::retention::purge_expired(&store, days)).await {
            Ok(purged) => {
                purged?;
                true
            }
            Err(_elapsed) => false,
        };
    let secs = started.elapsed().as_secs_f64();
    if finished {
        hookgate::retention::vacuum_unless_autovacuum_runs(&store).await;
    }
    let after = due().await?;
    store.close().await;
    pool.close().await;
    Ok(PurgeReport {
        days,
        purged: before - after,
        secs,
        finished,
    })
}
