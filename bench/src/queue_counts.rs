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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery_cpu::{Seed, seed};
    use bytes::Bytes;

    /// A database of its own on the server `DATABASE_URL` names (the local one by default).
    fn database_url(name: &str) -> String {
        let server = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let (server, query) = server.split_once('?').unwrap_or((&server, ""));
        let (server, _) = server.rsplit_once('/').expect("a database URL has a path");
        match query {
            "" => format!("{server}/{name}"),
            query => format!("{server}/{name}?{query}"),
        }
    }

    #[tokio::test]
    async fn the_backlog_and_the_final_states_are_counted_apart() {
        let url = database_url(&format!(
            "bench_queue_counts_{}",
            uuid::Uuid::now_v7().simple()
        ));
        crate::db::create(&url).await.unwrap();
        let queue = Seed {
            source: "gh",
            destination: "sink",
            events: 10,
            body: Bytes::from_static(b"{}"),
            keys: 0,
        };
        seed(&url, queue).await.unwrap();
        let counter = QueueCounter::connect(&url).await.unwrap();
        assert!(!counter.any_delivered().await.unwrap());
        assert_eq!(counter.backlog().await.unwrap(), 10);

        // Of ten: three delivered, two dead, two leased in flight, three left pending.
        let pool = PgPoolOptions::new().connect(&url).await.unwrap();
        sqlx::query(
            "WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM deliveries) \
             UPDATE deliveries d \
             SET state = CASE WHEN n <= 3 THEN 'delivered' WHEN n <= 5 THEN 'dead' \
                              ELSE 'in_flight' END, \
                 lease_until = CASE WHEN n > 5 THEN now() + interval '1 minute' END \
             FROM ranked r WHERE d.id = r.id AND r.n <= 7",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        assert!(counter.any_delivered().await.unwrap());
        assert_eq!(counter.backlog().await.unwrap(), 5);
        assert_eq!(
            counter.finals().await.unwrap(),
            Finals {
                delivered: 3,
                dead: 2
            }
        );
        counter.close().await;
        crate::db::drop(&url).await.unwrap();
    }
}
