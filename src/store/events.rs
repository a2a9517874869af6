//! Writing received events and their deliveries, many requests per statement.

use super::batch_keys::BatchKeys;
use super::own_connection::OwnConnection;
use super::{Store, StoreError};
use crate::routes::Filtered;
use bytes::Bytes;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// One received event, ready to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// hookgate's id for the event, used only if the event is new.
    pub id: Uuid,
    pub source_id: Arc<str>,
    pub event_id: String,
    pub event_type: Option<String>,
    pub received_at: OffsetDateTime,
    pub content_type: Option<String>,
    /// The received headers as a JSON object, secret-bearing ones already removed.
    pub headers_json: String,
    pub body: Bytes,
    /// One per destination the event fans out to; written only if the event is new.
    pub deliveries: Vec<NewDelivery>,
    /// The connections its filters dropped, shown with the event.
    pub filtered: Vec<Filtered>,
}

/// A delivery to create together with its event.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: Uuid,
    pub destination_id: Arc<str>,
    /// `Some`: a worker of this process takes it straight from ingest, so it is written
    /// already claimed (in flight, first attempt) with a lease this long. `None`: pending.
    pub lease: Option<Duration>,
    /// Its destination's ordering key for this event; `None`: unordered.
    pub ordering_key: Option<String>,
}

/// What storing one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now, with its deliveries; carries the new event's hookgate id.
    Accepted(Uuid),
    /// `(source_id, event_id)` was already stored under this hookgate id; nothing was written.
    Duplicate(Uuid),
}

/// The key goes in first: an event whose `(source_id, event_id)` is already in `event_keys`
/// (stored earlier, or by a concurrent batch that commits first) writes nothing else.
const INSERT_EVENTS_AND_DELIVERIES: &str = r#"
WITH input AS (
    SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                         $6::text[], $7::text[], $8::bytea[], $9::text[])
        AS t(id, source_id, event_id, event_type, received_at, content_type, headers, body,
             filtered)
), new_keys AS (
    INSERT INTO event_keys (source_id, event_id, event)
    SELECT source_id, event_id, id FROM input
    ON CONFLICT (source_id, event_id) DO NOTHING
    RETURNING event
), inserted AS (
    INSERT INTO events (id, source_id, event_id, event_type, received_at, content_type, headers, body,
                        filtered)
    SELECT id, source_id, event_id, event_type, received_at, content_type, headers::json, body,
           filtered::jsonb
    FROM input JOIN new_keys ON new_keys.event = input.id
), new_deliveries AS (
    INSERT INTO deliveries (id, event_id, destination_id, state, attempts, lease_until,
                            ordering_key)
    SELECT d.id, d.event_id, d.destination_id,
           CASE WHEN d.lease_secs IS NULL THEN 'pending' ELSE 'in_flight' END,
           CASE WHEN d.lease_secs IS NULL THEN 0 ELSE 1 END,
           now() + make_interval(secs => d.lease_secs), d.ordering_key
    FROM UNNEST($10::uuid[], $11::uuid[], $12::text[], $13::float8[], $14::text[])
        AS d(id, event_id, destination_id, lease_secs, ordering_key)
    JOIN new_keys ON new_keys.event = d.event_id
)
SELECT event FROM new_keys
"#;

const FIND_EXISTING: &str = r#"
SELECT k.event, k.source_id, k.event_id
FROM event_keys k
JOIN UNNEST($1::text[], $2::text[]) AS u(source_id, event_id)
  ON k.source_id = u.source_id AND k.event_id = u.event_id
"#;

impl Store {
    /// Stores every event that is not stored yet, with its deliveries, in one statement and
    /// therefore one transaction; answers, per input event and in order, whether it was new.
    ///
    /// Events of the batch that share `(source_id, event_id)` are stored once: the first is
    /// accepted, the others are its duplicates.
    pub async fn insert_events(
        &self,
        batch: &[NewEvent],
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_events_on(&mut conn, batch).await
    }

    /// An [`EventWriter`]: [`Store::insert_events`] on a connection of its own.
    pub fn event_writer(&self) -> EventWriter {
        EventWriter {
            conn: OwnConnection::new(self.pool.connect_options()),
        }
    }
}

/// Writes event batches like [`Store::insert_events`], on one connection of its own kept from
/// one batch to the next (see [`OwnConnection`]): no round trip between commits.
pub struct EventWriter {
    conn: OwnConnection,
}

impl EventWriter {
    /// [`Store::insert_events`] on this writer's connection.
    pub async fn insert_events(
        &mut self,
        batch: &[NewEvent],
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        self.conn
            .run(async |conn| insert_events_on(conn, batch).await)
            .await
    }
}

async fn insert_events_on(
    conn: &mut PgConnection,
    batch: &[NewEvent],
) -> Result<Vec<InsertOutcome>, StoreError> {
    let keys = BatchKeys::of(batch);
    // In key order: concurrent batches take unique-index locks in one global order, so two
    // batches that carry the same events never deadlock.
    let written = keys.written(batch);
    let mut inserted: Vec<Uuid> =
        bind_events(sqlx::query_scalar(INSERT_EVENTS_AND_DELIVERIES), &written)
            .fetch_all(&mut *conn)
            .await?;
    inserted.sort_unstable();
    let is_inserted = |event: &NewEvent| inserted.binary_search(&event.id).is_ok();

    let missing: Vec<&NewEvent> = written
        .iter()
        .copied()
        .filter(|event| !is_inserted(event))
        .collect();
    let existing = find_existing(conn, &missing).await?;
    let outcomes = written
        .iter()
        .map(|event| {
            if is_inserted(event) {
                return Ok(InsertOutcome::Accepted(event.id));
            }
            let id = existing
                .get(&(event.source_id.to_string(), event.event_id.clone()))
                .copied()
                .ok_or(StoreError::Query(sqlx::Error::RowNotFound))?;
            // Stored under the id this very event carries: an earlier try of this batch
            // committed it (its answer was lost with the connection), so it is ours.
            Ok(if id == event.id {
                InsertOutcome::Accepted(id)
            } else {
                InsertOutcome::Duplicate(id)
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(keys.answers(&outcomes))
}

async fn find_existing(
    conn: &mut PgConnection,
    events: &[&NewEvent],
) -> Result<HashMap<(String, String), Uuid>, StoreError> {
    if events.is_empty() {
        return Ok(HashMap::new());
    }
    let sources: Vec<&str> = events.iter().map(|e| &*e.source_id).collect();
    let event_ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(FIND_EXISTING)
        .bind(&sources)
        .bind(&event_ids)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, source, event)| ((source, event), id))
        .collect())
}

/// The `filtered` column: NULL, the common case, when every connection passed.
fn filtered_json(event: &NewEvent) -> Option<String> {
    (!event.filtered.is_empty())
        .then(|| serde_json::to_string(&event.filtered).expect("filtered entries serialize"))
}

fn bind_events<'q, O>(
    query: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    events: &[&'q NewEvent],
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    let deliveries = events
        .iter()
        .flat_map(|e| e.deliveries.iter().map(move |d| (e.id, d)));
    let mut delivery_ids = Vec::new();
    let mut delivery_events = Vec::new();
    let mut delivery_destinations: Vec<&str> = Vec::new();
    let mut delivery_leases: Vec<Option<f64>> = Vec::new();
    let mut delivery_keys: Vec<Option<&str>> = Vec::new();
    for (event_id, delivery) in deliveries {
        delivery_ids.push(delivery.id);
        delivery_events.push(event_id);
        delivery_destinations.push(&delivery.destination_id);
        delivery_leases.push(delivery.lease.map(|lease| lease.as_secs_f64()));
        delivery_keys.push(delivery.ordering_key.as_deref());
    }
    query
        .bind(events.iter().map(|e| e.id).collect::<Vec<_>>())
        .bind(events.iter().map(|e| &*e.source_id).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| e.event_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.event_type.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| e.received_at).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| e.content_type.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.headers_json.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| &e.body[..]).collect::<Vec<_>>())
        .bind(events.iter().map(|e| filtered_json(e)).collect::<Vec<_>>())
        .bind(delivery_ids)
        .bind(delivery_events)
        .bind(delivery_destinations)
        .bind(delivery_leases)
        .bind(delivery_keys)
}
