//! Replaying one event: new deliveries for an event already stored.

use super::{Store, StoreError};
use uuid::Uuid;

/// A delivery created by a replay.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Redelivery {
    pub id: Uuid,
    pub destination: String,
}

const INSERT_DELIVERIES: &str = r#"
INSERT INTO deliveries (id, event_id, destination_id)
SELECT d.id, $1, d.destination_id
FROM UNNEST($2::uuid[], $3::text[]) AS d(id, destination_id)
RETURNING id, destination_id AS destination
"#;

const SELECT_SOURCE: &str = "SELECT source_id FROM events WHERE id = $1";

impl Store {
    /// The source the event with this hookgate id came from; `None` if unknown.
    pub async fn event_source(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(SELECT_SOURCE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Creates one new pending delivery, due now, of `event` to each destination; the
    /// attempts of earlier deliveries stay as they were.
    pub async fn redeliver(
        &self,
        event: Uuid,
        destinations: &[&str],
    ) -> Result<Vec<Redelivery>, StoreError> {
        let ids: Vec<Uuid> = destinations.iter().map(|_| Uuid::now_v7()).collect();
        Ok(sqlx::query_as(INSERT_DELIVERIES)
            .bind(event)
            .bind(ids)
            .bind(destinations)
            .fetch_all(&self.pool)
            .await?)
    }
}
