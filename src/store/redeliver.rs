//! Replaying one event: new deliveries for an event already stored.

use super::{Store, StoreError};
use uuid::Uuid;

/// A delivery created by a replay.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Redelivery {
    pub id: Uuid,
    pub destination: String,
}

/// The event is held FOR KEY SHARE while its deliveries are added, so retention cannot purge
/// it meanwhile (and nothing is added to an event retention has just purged). A replay keeps
/// the ordering key of the event's last delivery to that destination, so it takes the event's
/// place in the key's queue (see [`super::ordering`]).
const INSERT_DELIVERIES: &str = concat!(
    r#"
WITH event AS (SELECT id FROM events WHERE id = $1 FOR KEY SHARE)
INSERT INTO deliveries (id, event_id, destination_id, ordering_key)
SELECT d.id, event.id, d.destination_id,
       (SELECT p.ordering_key FROM deliveries p
        WHERE "#,
    deliveries_of_event!("p", "event.id"),
    r#" AND p.destination_id = d.destination_id
        ORDER BY p.id DESC LIMIT 1)
FROM event, UNNEST($2::uuid[], $3::text[]) AS d(id, destination_id)
RETURNING id, destination_id AS destination
"#
);

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
