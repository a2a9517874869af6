//! Counting `deliveries` while hookgate works on them, cheaply enough not to disturb what is
//! measured. A count over the whole table reads every row: polled every 50–250 ms over the
//! hundreds of thousands of rows a phase leaves behind, it took a share of a core from the
//! processes being measured (its backend's CPU is left out of Postgres's figures, but not out
//! of the machine). The backlog is counted through the partial indexes hookgate keeps for it
//! (pending, and leased: a delivery in flight always holds a lease, which the admin API's
//! stats rely on too), which hold nothing but the backlog; the whole table is counted only at
//! a phase's edges.

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Pending + in flight, each through its partial index.
const BACKLOG: &str = "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending') \
     + (SELECT count(*) FROM deliveries WHERE state = 'in_flight' AND lease_until IS NOT NULL)";

/// Final states over the whole table.
const FINALS: &str = "SELECT count(*) FILTER (WHERE state = 'delivered'), \
     count(*) FILTER (WHERE state = 'dead') FROM deliveries";

/// Whether anything was delivered yet: stops at the first delivered row.
const ANY_DELIVERED: &str = "SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 'delivered')";

/// Deliveries in a final state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Finals {
    pub delivered: i64,
    pub dead: i64,
}

/// One connection that counts; its backend is the watch's own (see [`QueueCounter::backend`]).
pub struct QueueCounter {
    pool: PgPool,
    backend: u32,
}

impl QueueCounter {
    pub async fn connect(database_url: &str) -> anyhow::Result<QueueCounter> {
        // A table that grew from empty during the phase has statistics that call it tiny, and
        // the planner would scan it whole rather than read an index. Scans priced that way
        // would cross `jit_above_cost`: JIT compiling took 70 ms of every whole-table count.
        let options: PgConnectOptions = database_url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.options([("enable_seqscan", "off"), ("jit", "off")]))
            .await?;
        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await?;
        Ok(QueueCounter {
            pool,
            backend: u32::try_from(backend)?,
        })
    }

    /// The counting backend's process id: its CPU is the watch's, not hookgate's.
    pub fn backend(&self) -> u32 {
        self.backend
    }

    /// Deliveries pending or in flight.
    pub async fn backlog(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(BACKLOG).fetch_one(&self.pool).await?)
    }

    /// Deliveries delivered and dead: reads the whole table, so only at a phase's edges.
    pub async fn finals(&self) -> anyhow::Result<Finals> {
        let (delivered, dead) = sqlx::query_as(FINALS).fetch_one(&self.pool).await?;
        Ok(Finals { delivered, dead })
    }

    /// Whether any delivery is delivered yet.
    pub async fn any_delivered(&self) -> anyhow::Result<bool> {
        Ok(sqlx::query_scalar(ANY_DELIVERED)
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}
