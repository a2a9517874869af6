//! Creating and dropping the benchmark's own database.

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::Postgres;

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
