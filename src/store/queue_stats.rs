//! How much is waiting in the delivery queue, for the metrics gauges.

use super::{Store, StoreError};

/// Pending deliveries to one destination.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingSummary {
    pub destination_id: String,
    pub count: i64,
    /// Seconds since the oldest pending delivery was created.
    pub oldest_age_secs: f64,
}

/// Reads only the pending rows, through the partial index that holds them.
const PENDING_BY_DESTINATION: &str = r#"
SELECT destination_id,
       count(*) AS count,
       COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest_age_secs
FROM deliveries
WHERE state = 'pending'
GROUP BY destination_id
"#;

impl Store {
    /// Pending deliveries per destination (destinations with none are absent).
    pub async fn pending_by_destination(&self) -> Result<Vec<PendingSummary>, StoreError> {
        Ok(sqlx::query_as(PENDING_BY_DESTINATION)
            .fetch_all(&self.pool)
            .await?)
    }
}
