//! The delivery queue: claim due deliveries with a lease, record how attempts ended, hand
//! back what was claimed but not attempted, and reclaim what a dead worker held.

use super::ordering::HOLDING_DEAD;
use super::own_connection::OwnConnection;
use super::{DeliveryState, Store, StoreError};
use bytes::Bytes;
use sqlx::PgConnection;
use std::sync::LazyLock;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// A delivery claimed for one attempt, with what is needed to make it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    /// The hookgate event id: the `Idempotency-Key`.
    pub event_id: Uuid,
    pub destination_id: String,
    /// 1-based number of the attempt about to be made.
    pub attempt: i32,
    pub source_id: String,
    /// The provider's event id (the admin API's `event_id`).
    pub provider_event_id: String,
    pub event_type: Option<String>,
    pub content_type: Option<String>,
    #[sqlx(try_from = "Vec<u8>")]
    pub body: Bytes,
    pub received_at: OffsetDateTime,
    /// The event's headers as stored (a JSON object), for a transform's input: claimed only
    /// for a destination whose connections transform, so other claims do not carry them.
    pub headers_json: Option<String>,
    /// The random part of a pull lease's id; `None` for a push claim.
    pub lease_token: Option<Uuid>,
}

/// Who claims: a push worker, or a pull consumer's lease (which gets a lease token).
#[derive(Debug, Clone, Copy)]
pub(super) enum Claimant {
    /// `with_headers`: its connections transform, and a transform reads the event's headers.
    Worker {
        with_headers: bool,
    },
    PullConsumer,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextState {
    Delivered,
    RetryAt(OffsetDateTime),
    Dead,
    /// The connection's transform chose not to deliver it.
    Filtered,
}

impl NextState {
    /// The `deliveries.state` it leads to.
    pub fn stored_state(self) -> &'static str {
        match self {
            NextState::Delivered => DeliveryState::Delivered,
            NextState::RetryAt(_) => DeliveryState::Pending,
            NextState::Dead => DeliveryState::Dead,
            NextState::Filtered => DeliveryState::Filtered,
        }
        .as_str()
    }

    /// When it is due again, for a retry.
    pub fn run_at(self) -> Option<OffsetDateTime> {
        match self {
            NextState::RetryAt(at) => Some(at),
            _ => None,
        }
    }
}

/// How one attempt ended, to be recorded.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub started_at: OffsetDateTime,
    pub duration: Duration,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub next: NextState,
}

/// How many bytes of bodies one claim brings into memory at most (always at least one
/// delivery): with 25 MiB events, a worker with 32 free slots or a consumer leasing 100 gets
/// the first few, not a gigabyte; the rest stay pending for the next claim.
pub const CLAIM_BODY_BUDGET_BYTES: i64 = 16 << 20;

/// The one claim both kinds of destination take deliveries with: pushed by a worker (`$4`
/// false) or leased by a pull consumer (`$4` true: the lease gets a random token). Whatever
/// decides which deliveries are due belongs here, for both at once: a keyed delivery is due
/// only as the head of its key (see [`super::ordering`]; `$5`: a dead head blocks its key).
/// Of the deliveries picked, those whose bodies come after `$6` bytes are left pending
/// (`octet_length` reads a stored body's size without reading the body). `$7`: with the
/// event's headers.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH picked AS (
    SELECT d.id, d.event_id, d.run_at FROM deliveries d
    WHERE d.destination_id = $1 AND d.state = 'pending' AND d.run_at <= now()
      AND (d.ordering_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM deliveries o
          WHERE o.destination_id = d.destination_id AND o.ordering_key = d.ordering_key
            AND o.state IN ('pending', 'in_flight', 'dead') AND o.id <> d.id
            AND (o.state = 'in_flight'
                 OR ((o.event_id, o.id) < (d.event_id, d.id)
                     AND (o.state = 'pending' OR ($5 AND {HOLDING_DEAD}))))))
    ORDER BY d.run_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), sized AS (
    SELECT p.id, e.*,
           sum(octet_length(e.body)) OVER (ORDER BY p.run_at, p.id)
               - octet_length(e.body) AS bytes_before
    FROM picked p
    CROSS JOIN LATERAL (
        SELECT e.source_id, e.event_id AS provider_event_id, e.event_type, e.content_type,
               e.body, e.received_at,
               CASE WHEN $7 THEN {headers}::text END AS headers_json
        FROM events e WHERE e.id = p.event_id
        LIMIT 1
    ) e
), claimed AS (
    UPDATE deliveries d
    SET state = 'in_flight',
        lease_until = now() + make_interval(secs => $3),
        attempts = d.attempts + 1,
        lease_token = CASE WHEN $4 THEN gen_random_uuid() END,
        updated_at = now()
    WHERE d.id = ANY(ARRAY(SELECT id FROM sized WHERE bytes_before < $6))
    RETURNING d.id, d.event_id, d.destination_id, d.attempts, d.lease_token
)
SELECT c.id, c.event_id, c.destination_id, c.attempts AS attempt, s.source_id,
       s.provider_event_id, s.event_type, s.content_type, s.body, s.received_at,
       s.headers_json, c.lease_token
FROM claimed c JOIN sized s ON s.id = c.id
"#,
        headers = stored_headers!()
    )
});

/// Moves each delivery on and records each attempt: the attempt that delivers on the delivery
/// row itself (migration 0012), every other one in `delivery_attempts`, as is one whose lease
/// was lost meanwhile (its delivery was reclaimed: the row is left alone).
const FINISH: &str = r#"
WITH input AS (
    SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::int[],
                         $6::text[], $7::timestamptz[], $8::int[], $9::text[])
        AS t(id, attempt, state, run_at, status, error, started_at, duration_ms, excerpt)
), updated AS (
    UPDATE deliveries d
    SET state = i.state,
        run_at = COALESCE(i.run_at, d.run_at),
        lease_until = NULL,
        last_status = i.status,
        last_error = i.error,
        updated_at = now(),
        delivered_started_at = CASE WHEN i.state = 'delivered' THEN i.started_at END,
        delivered_duration_ms = CASE WHEN i.state = 'delivered' THEN i.duration_ms END,
        delivered_excerpt = CASE WHEN i.state = 'delivered' THEN i.excerpt END
    FROM input i
    WHERE d.id = i.id AND d.state = 'in_flight' AND d.attempts = i.attempt
    RETURNING d.id, d.state
)
INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status, error, response_excerpt)
SELECT i.id, i.attempt, i.started_at, i.duration_ms, i.status, i.error, i.excerpt
FROM input i
WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.id = i.id AND u.state = 'delivered')
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.id = i.id)
ON CONFLICT DO NOTHING
"#;

const RELEASE: &str = r#"
UPDATE deliveries
SET state = 'pending', attempts = attempts - 1, lease_until = NULL, updated_at = now()
WHERE id = ANY($1) AND state = 'in_flight'
"#;

const RECLAIM_EXPIRED: &str = r#"
UPDATE deliveries
SET state = 'pending', run_at = now(), lease_until = NULL,
    last_error = 'lease expired: the worker stopped during the attempt', updated_at = now()
WHERE state = 'in_flight' AND lease_until < now() AND lease_token IS NULL
"#;

/// The channel workers LISTEN on for new deliveries.
pub const WAKE_CHANNEL: &str = "hookgate_deliveries";

impl Store {
    /// Claims up to `limit` due deliveries to `destination`, leasing them for `lease`;
    /// `dead_head_blocks`: its ordering's `on_dead` is "block"; `with_headers`: bring each
    /// event's headers too (its connections transform).
    pub async fn claim_deliveries(
        &self,
        destination: &str,
        limit: u32,
        lease: Duration,
        dead_head_blocks: bool,
        with_headers: bool,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let push = Claimant::Worker { with_headers };
        self.claim(destination, limit, lease, push, dead_head_blocks)
            .await
    }

    /// [`CLAIM`]: for a pull lease, each delivery gets a lease token. A claim that
    /// would put a second delivery of a key in flight (its snapshot predates the other's
    /// claim) claims nothing this time: the next one sees the key held.
    pub(super) async fn claim(
        &self,
        destination: &str,
        limit: u32,
        lease: Duration,
        claimant: Claimant,
        dead_head_blocks: bool,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let (pull, with_headers) = match claimant {
            Claimant::Worker { with_headers } => (false, with_headers),
            Claimant::PullConsumer => (true, false),
        };
        let claimed = sqlx::query_as(&CLAIM)
            .bind(destination)
            .bind(i64::from(limit))
            .bind(lease.as_secs_f64())
            .bind(pull)
            .bind(dead_head_blocks)
            .bind(CLAIM_BODY_BUDGET_BYTES)
            .bind(with_headers)
            .fetch_all(&self.pool)
            .await;
        match claimed {
            Err(sqlx::Error::Database(err))
                if err.constraint() == Some(super::ordering::IN_FLIGHT_INDEX) =>
            {
                Ok(Vec::new())
            }
            claimed => Ok(claimed?),
        }
    }

    /// An [`AttemptWriter`]: records attempt outcomes on a connection of its own.
    pub fn attempt_writer(&self) -> AttemptWriter {
        AttemptWriter {
            conn: OwnConnection::new(self.pool.connect_options()),
        }
    }

    /// Hands claimed deliveries that were never attempted back to the queue, uncounted.
    pub async fn release_deliveries(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        sqlx::query(RELEASE).bind(ids).execute(&self.pool).await?;
        Ok(())
    }

    /// Makes pushed deliveries whose lease ran out (their worker died) claimable again;
    /// answers how many. Pull leases run out differently: see [`Store::expire_pull_leases`].
    pub async fn reclaim_expired_leases(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query(RECLAIM_EXPIRED)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Tells workers in other processes that deliveries are waiting.
    pub async fn notify_workers(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(WAKE_CHANNEL)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A listener on [`WAKE_CHANNEL`].
    pub async fn listen_for_work(&self) -> Result<sqlx::postgres::PgListener, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(WAKE_CHANNEL).await?;
        Ok(listener)
    }
}

/// Records attempt outcomes batch after batch, on one connection of its own kept from one
/// batch to the next (see [`OwnConnection`]): no round trip between batches.
pub struct AttemptWriter {
    conn: OwnConnection,
}

impl AttemptWriter {
    /// Records attempts and moves each delivery on, in one statement. A record whose lease
    /// was lost (the delivery was reclaimed meanwhile) leaves the delivery alone.
    pub async fn finish_deliveries(&mut self, records: &[AttemptRecord]) -> Result<(), StoreError> {
        self.conn
            .run(async |conn| finish_deliveries_on(conn, records).await)
            .await
    }
}

async fn finish_deliveries_on(
    conn: &mut PgConnection,
    records: &[AttemptRecord],
) -> Result<(), StoreError> {
    let state = |r: &AttemptRecord| r.next.stored_state();
    let run_at = |r: &AttemptRecord| r.next.run_at();
    sqlx::query(FINISH)
        .bind(records.iter().map(|r| r.delivery_id).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.attempt).collect::<Vec<_>>())
        .bind(records.iter().map(state).collect::<Vec<_>>())
        .bind(records.iter().map(run_at).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|r| r.status.map(i32::from))
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|r| r.error.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(records.iter().map(|r| r.started_at).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|r| i32::try_from(r.duration.as_millis()).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|r| r.response_excerpt.as_deref())
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;
    Ok(())
}
