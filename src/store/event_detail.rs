//! One event for the admin API: metadata and headers, its deliveries with every attempt, and
//! its raw body.

use super::{Store, StoreError};
use crate::routes::Filtered;
use time::OffsetDateTime;
use uuid::Uuid;

/// An event as stored, without its body.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EventDetail {
    pub id: Uuid,
    pub source: String,
    pub event_id: String,
    pub event_type: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub content_type: Option<String>,
    /// Body size in bytes.
    pub size: i64,
    /// The headers as received (lowercase name → value), credentials removed.
    #[sqlx(json)]
    #[schema(value_type = Object)]
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The connections its filters dropped (the source's own filter with `destination`
    /// null): no delivery was made for them.
    #[sqlx(json)]
    #[serde(default)]
    pub filtered: Vec<Filtered>,
    /// Every delivery of the event, oldest first (replays add new ones).
    #[sqlx(skip)]
    pub deliveries: Vec<DeliveryDetail>,
}

/// One delivery of an event to a destination.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DeliveryDetail {
    pub id: Uuid,
    pub destination: String,
    /// pending, in_flight, delivered or dead.
    pub state: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// Not attempted before this.
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Every attempt, in order.
    #[sqlx(skip)]
    pub attempt_history: Vec<AttemptDetail>,
}

/// How one delivery attempt went.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AttemptDetail {
    #[serde(skip)]
    pub delivery_id: Uuid,
    /// 1-based.
    pub attempt: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub duration_ms: i32,
    /// The HTTP status, when a response came back.
    pub status: Option<i32>,
    /// The error class (timeout, connect, http), when the attempt failed.
    pub error: Option<String>,
    /// The start of the response body.
    pub response_excerpt: Option<String>,
}

/// The start of reading an event's body: its size and Content-Type, and the body itself when
/// it is small.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayloadStart {
    pub content_type: Option<String>,
    pub size: i64,
    /// `None` when the body is larger than asked: read it with [`Store::event_payload_slice`].
    pub body: Option<Vec<u8>>,
}

/// An event's body, byte-exact, and the Content-Type it came with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Payload {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
}

const SELECT_EVENT: &str = concat!(
    r#"
SELECT id, source_id AS source, event_id, event_type, received_at, content_type,
       octet_length(body)::bigint AS size, "#,
    stored_headers!(),
    r#" AS headers, COALESCE(filtered, '[]') AS filtered
FROM events e WHERE id = $1
"#
);

const SELECT_DELIVERIES: &str = concat!(
    r#"
SELECT id, destination_id AS destination, state, attempts, run_at, last_status, last_error,
       created_at, updated_at
FROM deliveries d WHERE "#,
    deliveries_of_event!("d", "$1"),
    r#"
ORDER BY created_at, id
"#
);

/// Every attempt: those in `delivery_attempts` and the one that delivered, which is kept on
/// its delivery row (migration 0012).
const SELECT_ATTEMPTS: &str = concat!(
    r#"
SELECT a.delivery_id, a.attempt, a.started_at, a.duration_ms, a.status, a.error, a.response_excerpt
FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
WHERE "#,
    deliveries_of_event!("d", "$1"),
    r#"
UNION ALL
SELECT id, attempts, delivered_started_at, delivered_duration_ms, last_status, NULL,
       delivered_excerpt
FROM deliveries d
WHERE "#,
    deliveries_of_event!("d", "$1"),
    r#" AND delivered_started_at IS NOT NULL
ORDER BY attempt, started_at
"#
);

const SELECT_PAYLOAD: &str = "SELECT body, content_type FROM events WHERE id = $1";

/// The body itself only when it is at most `$2` bytes: a larger one is read in slices.
const SELECT_PAYLOAD_START: &str = r#"
SELECT content_type, octet_length(body)::bigint AS size,
       CASE WHEN octet_length(body) <= $2 THEN body END AS body
FROM events WHERE id = $1
"#;

/// `substring` on a bytea reads only the slice from storage (for a compressed value, only
/// the prefix up to its end is decompressed).
const SELECT_PAYLOAD_SLICE: &str =
    "SELECT substring(body FROM $2 FOR $3) FROM events WHERE id = $1";

impl Store {
    /// The event with this hookgate id, its deliveries and their attempts; `None` if unknown.
    pub async fn event_detail(&self, id: Uuid) -> Result<Option<EventDetail>, StoreError> {
        let Some(mut event) = sqlx::query_as::<_, EventDetail>(SELECT_EVENT)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        event.deliveries = sqlx::query_as(SELECT_DELIVERIES)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let attempts: Vec<AttemptDetail> = sqlx::query_as(SELECT_ATTEMPTS)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        for attempt in attempts {
            if let Some(delivery) = event
                .deliveries
                .iter_mut()
                .find(|d| d.id == attempt.delivery_id)
            {
                delivery.attempt_history.push(attempt);
            }
        }
        Ok(Some(event))
    }

    /// The body of the event with this hookgate id; `None` if unknown.
    pub async fn event_payload(&self, id: Uuid) -> Result<Option<Payload>, StoreError> {
        Ok(sqlx::query_as(SELECT_PAYLOAD)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The size and Content-Type of the event's body, and the body itself if it is at most
    /// `whole_up_to` bytes; `None` if the event is unknown.
    pub async fn event_payload_start(
        &self,
        id: Uuid,
        whole_up_to: usize,
    ) -> Result<Option<PayloadStart>, StoreError> {
        Ok(sqlx::query_as(SELECT_PAYLOAD_START)
            .bind(id)
            .bind(i32::try_from(whole_up_to).unwrap_or(i32::MAX))
            .fetch_optional(&self.pool)
            .await?)
    }

    /// `len` bytes of the event's body from byte `offset` (0-based); `None` if the event is
    /// gone (retention may purge it between two slices).
    pub async fn event_payload_slice(
        &self,
        id: Uuid,
        offset: usize,
        len: usize,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        // A bytea holds at most 1 GiB: every real position fits an int4.
        let position = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(sqlx::query_scalar(SELECT_PAYLOAD_SLICE)
            .bind(id)
            .bind(position(offset + 1))
            .bind(position(len))
            .fetch_optional(&self.pool)
            .await?)
    }
}
