//! Creating and dropping the benchmark's own database, and counting what hookgate wrote in it.

use serde::{Deserialize, Serialize};
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgPoolOptions, Postgres};

/// Creates the database named in `url` (dropping any earlier one of that name first).
pub async fn create(url: &str) -> anyhow::Result<()> {
    if Postgres::database_exists(url).await? {
        Postgres::force_drop_database(url).await?;
    }
    Ok(Postgres::create_database(url).await?)
}

/// Drops the database named in `url`, closing its connections.
pub async fn drop(url: &str) -> anyhow::Result<()> {
    Ok(Postgres::force_drop_database(url).await?)
}

/// How many events hookgate stored and how many deliveries it created for them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Rows {
    pub events: i64,
    pub deliveries: i64,
}

/// Counts the rows of hookgate's `events` and `deliveries` in the database at `url`: after an
/// ingest run through a filter, one delivery per event shows that the filter passed them all.
pub async fn rows(url: &str) -> anyhow::Result<Rows> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    let (events, deliveries) =
        sqlx::query_as("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries)")
            .fetch_one(&pool)
            .await?;
    pool.close().await;
    Ok(Rows { events, deliveries })
}
