//! The dead-letter view (and any other state) for the admin API: deliveries in one state,
//! most recently changed first, keyset pages on `(updated_at, id)`.

use super::{DeliveryState, Store, StoreError};
use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

/// Which deliveries to list.
#[derive(Debug, Clone)]
pub struct DeliveryFilter {
    pub state: DeliveryState,
    pub destination: Option<String>,
    /// Only deliveries after this one in the listing order (the last of the previous page).
    pub after: Option<DeliveryPosition>,
}

/// Where a delivery sits in the listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryPosition {
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub id: Uuid,
}

/// One delivery in the listing.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DeliverySummary {
    pub id: Uuid,
    /// hookgate's id of the event delivered.
    pub event_id: Uuid,
    pub source: String,
    pub destination: String,
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl DeliverySummary {
    /// Its place in the listing order, for the next page's cursor.
    pub fn position(&self) -> DeliveryPosition {
        DeliveryPosition {
            updated_at: self.updated_at,
            id: self.id,
        }
    }
}

const SELECT_DELIVERIES: &str = r#"
SELECT d.id, d.event_id, e.source_id AS source, d.destination_id AS destination, d.state,
       d.attempts, d.last_status, d.last_error, d.updated_at
FROM deliveries d JOIN events e ON e.id = d.event_id
WHERE d.state = "#;

impl Store {
    /// Up to `limit` deliveries matching `filter`, most recently changed first.
    pub async fn search_deliveries(
        &self,
        filter: &DeliveryFilter,
        limit: u32,
    ) -> Result<Vec<DeliverySummary>, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new(SELECT_DELIVERIES);
        query.push_bind(filter.state.as_str());
        if let Some(destination) = &filter.destination {
            query
                .push(" AND d.destination_id = ")
                .push_bind(destination);
        }
        if let Some(after) = filter.after {
            query
                .push(" AND (d.updated_at, d.id) < (")
                .push_bind(after.updated_at)
                .push(", ")
                .push_bind(after.id)
                .push(")");
        }
        query
            .push(" ORDER BY d.updated_at DESC, d.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        Ok(query
            .build_query_as::<DeliverySummary>()
            .fetch_all(&self.pool)
            .await?)
    }
}
