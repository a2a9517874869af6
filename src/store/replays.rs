//! Bulk replays: the job rows, the claim with a lease, and the batch step that re-queues
//! matching deliveries and records progress in one transaction.

use super::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Arguments;
use sqlx::postgres::PgArguments;
use sqlx::types::Json;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// Which deliveries a bulk replay re-delivers. Every field narrows the match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Without it, both finished states match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FinishedState>,
    /// Events received at or after this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<OffsetDateTime>,
    /// Events received before this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<OffsetDateTime>,
}

/// The delivery states a replay can start from: pending and in-flight deliveries are still
/// on their way and are never replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FinishedState {
    Delivered,
    Dead,
}

impl ReplayFilter {
    fn states(&self) -> Vec<&'static str> {
        match self.status {
            Some(FinishedState::Delivered) => vec!["delivered"],
            Some(FinishedState::Dead) => vec!["dead"],
            None => vec!["delivered", "dead"],
        }
    }
}

/// A bulk replay as the admin API reports it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReplayProgress {
    pub id: Uuid,
    /// `running`, `completed` or `failed`.
    pub state: String,
    pub matched: i64,
    pub replayed: i64,
    #[schema(value_type = ReplayFilter)]
    pub filter: Json<ReplayFilter>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How it was asked for: `console` or `admin API` (absent on replays recorded before
    /// hookgate kept it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

/// Where a replay sits in the newest-first listing: its id (UUIDv7, so creation order).
pub type ReplayPosition = Uuid;

/// A running replay this process holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedReplay {
    pub id: Uuid,
    /// Proves the lease is still ours on every write.
    pub lease_token: Uuid,
    pub filter: Json<ReplayFilter>,
    pub upper_bound: Option<Uuid>,
    /// The last delivery id processed; the next batch starts after it.
    pub cursor: Option<Uuid>,
}

/// What one batch step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// This many new deliveries were queued and the cursor moved on.
    Replayed(u64),
    /// Nothing was left to replay: the replay is now completed.
    Completed,
    /// Another process holds the replay now (our lease ran out); we stop.
    LeaseLost,
}

/// The match, shared by the count at creation and each batch (and the console's dead
/// letters). Parameters: $1 source, $2 destination, $3 states, $4 since, $5 until, $6
/// configured destinations. A delivery that was already replayed is superseded by its replay
/// and never matches again. The event is only looked up when a filter needs it: without one,
/// matching the dead letters of a large database reads the deliveries alone (every delivery
/// has its event: retention deletes both in one statement). A delivery is created after its
/// event was received, so its time-ordered id is at least the first id of `since` (less a few
/// seconds of clock slack, as `id_time::first_id_at` makes it, written in SQL): that bound
/// narrows "since" matches through the primary key before any event is looked up.
macro_rules! matching {
    () => {
        r#"
FROM deliveries d
WHERE d.state = ANY($3) AND d.replayed_at IS NULL AND d.destination_id = ANY($6)
  AND ($2::text IS NULL OR d.destination_id = $2)
  AND ($4::timestamptz IS NULL OR d.id >= rpad(lpad(to_hex(GREATEST(0,
        floor(extract(epoch FROM $4::timestamptz - interval '5 seconds') * 1000)::bigint)),
        12, '0'), 32, '0')::uuid)
  AND (($1::text IS NULL AND $4::timestamptz IS NULL AND $5::timestamptz IS NULL)
       OR EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id
                  AND ($1::text IS NULL OR e.source_id = $1)
                  AND ($4::timestamptz IS NULL OR e.received_at >= $4)
                  AND ($5::timestamptz IS NULL OR e.received_at < $5)))
"#
    };
}

pub(super) use matching;

/// Only deliveries that exist now match: the ones a replay creates come later in id order
/// and stay out of it. A replay that matches nothing is completed at once.
const CREATE: &str = concat!(
    r#"
WITH bound AS (SELECT (SELECT id FROM deliveries ORDER BY id DESC LIMIT 1) AS id),
matched AS (SELECT count(*) AS n "#,
    matching!(),
    r#"  AND d.id <= (SELECT id FROM bound))
INSERT INTO replays (id, filter, matched, upper_bound, state, completed_at, requested_by)
SELECT $7, $8, matched.n, bound.id,
       CASE WHEN matched.n = 0 THEN 'completed' ELSE 'running' END,
       CASE WHEN matched.n = 0 THEN now() END, $9
FROM matched, bound
RETURNING matched
"#
);

/// Locks the next batch of matching deliveries in id order. Blocking (not skipping) locks,
/// so the cursor never passes a row it did not see.
const NEXT_BATCH: &str = concat!(
    "SELECT d.id, d.event_id, d.destination_id ",
    matching!(),
    r#"  AND d.id <= $7 AND ($8::uuid IS NULL OR d.id > $8)
ORDER BY d.id
LIMIT $9
FOR UPDATE OF d
"#
);

const PROGRESS: &str = r#"
UPDATE replays
SET replayed = replayed + $3, cursor = $4, lease_until = now() + make_interval(secs => $5),
    updated_at = now()
WHERE id = $1 AND lease_token = $2 AND state = 'running'
"#;

/// The events are held FOR KEY SHARE while deliveries are added to them, so retention cannot
/// purge them meanwhile.
const QUEUE_AGAIN: &str = concat!(
    r#"
WITH input AS (
    SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS t(id, event_id, destination_id)
), locked AS (
    SELECT id FROM events WHERE id IN (SELECT event_id FROM input) FOR KEY SHARE
)
INSERT INTO deliveries (id, event_id, destination_id, ordering_key)
SELECT input.id, input.event_id, input.destination_id,
       (SELECT p.ordering_key FROM deliveries p
        WHERE "#,
    deliveries_of_event!("p", "input.event_id"),
    r#" AND p.destination_id = input.destination_id
        ORDER BY p.id DESC LIMIT 1)
FROM input JOIN locked ON locked.id = input.event_id
"#
);

const MARK_REPLAYED: &str = "UPDATE deliveries SET replayed_at = now() WHERE id = ANY($1)";

const FINISH: &str = r#"
UPDATE replays
SET state = $3, error = $4, completed_at = now(), updated_at = now(),
    lease_until = NULL, lease_token = NULL
WHERE id = $1 AND lease_token = $2 AND state = 'running'
"#;

const CLAIM: &str = r#"
WITH picked AS (
    SELECT id FROM replays
    WHERE state = 'running' AND (lease_until IS NULL OR lease_until < now())
    ORDER BY created_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE replays r
SET lease_until = now() + make_interval(secs => $1), lease_token = $2, updated_at = now()
FROM picked
WHERE r.id = picked.id
RETURNING r.id, r.lease_token, r.filter, r.upper_bound, r.cursor
"#;

const RELEASE: &str = r#"
UPDATE replays SET lease_until = NULL, lease_token = NULL
WHERE id = $1 AND lease_token = $2
"#;

/// The columns of a [`ReplayProgress`].
macro_rules! progress_columns {
    () => {
        "SELECT id, state, matched, replayed, filter, created_at, updated_at, completed_at, \
         error, requested_by FROM replays "
    };
}

const GET: &str = concat!(progress_columns!(), "WHERE id = $1");

/// Newest first, a keyset page on the primary key.
const LIST: &str = concat!(
    progress_columns!(),
    "WHERE ($1::uuid IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
);

/// The `matching!` parameters $1 to $6.
pub(super) fn match_arguments(
    filter: &ReplayFilter,
    destinations: &[String],
) -> Result<PgArguments, StoreError> {
    let mut args = PgArguments::default();
    args.add(filter.source.as_deref())
        .map_err(sqlx::Error::Encode)?;
    args.add(filter.destination.as_deref())
        .map_err(sqlx::Error::Encode)?;
    args.add(filter.states()).map_err(sqlx::Error::Encode)?;
    args.add(filter.since).map_err(sqlx::Error::Encode)?;
    args.add(filter.until).map_err(sqlx::Error::Encode)?;
    args.add(destinations).map_err(sqlx::Error::Encode)?;
    Ok(args)
}

impl Store {
    /// Records a new bulk replay over the deliveries to `destinations` that match `filter`
    /// now, asked for by `requested_by`; answers how many match.
    pub async fn create_replay(
        &self,
        id: Uuid,
        filter: &ReplayFilter,
        destinations: &[String],
        requested_by: &str,
    ) -> Result<i64, StoreError> {
        let mut args = match_arguments(filter, destinations)?;
        args.add(id).map_err(sqlx::Error::Encode)?;
        args.add(Json(filter)).map_err(sqlx::Error::Encode)?;
        args.add(requested_by).map_err(sqlx::Error::Encode)?;
        Ok(sqlx::query_scalar_with(CREATE, args)
            .fetch_one(&self.pool)
            .await?)
    }

    /// One replay's progress, if it exists.
    pub async fn replay_progress(&self, id: Uuid) -> Result<Option<ReplayProgress>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Up to `limit` replays, newest first, after `after` (the last of the previous page).
    pub async fn list_replays(
        &self,
        after: Option<ReplayPosition>,
        limit: u32,
    ) -> Result<Vec<ReplayProgress>, StoreError> {
        Ok(sqlx::query_as(LIST)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Takes the lease on the oldest running replay nobody holds (or whose holder's lease
    /// ran out).
    pub async fn claim_replay(&self, lease: Duration) -> Result<Option<ClaimedReplay>, StoreError> {
        Ok(sqlx::query_as(CLAIM)
            .bind(lease.as_secs_f64())
            .bind(Uuid::now_v7())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Gives the lease back, so another process may resume the replay at once.
    pub async fn release_replay(&self, replay: &ClaimedReplay) -> Result<(), StoreError> {
        sqlx::query(RELEASE)
            .bind(replay.id)
            .bind(replay.lease_token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a replay as `failed` with `error`.
    pub async fn fail_replay(&self, replay: &ClaimedReplay, error: &str) -> Result<(), StoreError> {
        self.finish_replay(replay, "failed", Some(error)).await
    }

    async fn finish_replay(
        &self,
        replay: &ClaimedReplay,
        state: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(FINISH)
            .bind(replay.id)
            .bind(replay.lease_token)
            .bind(state)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replays the next `limit` matching deliveries after the cursor, in one transaction: a
    /// new pending delivery for the same event and destination for each, the old one marked
    /// as replayed, and the progress and cursor recorded (which also renews the lease). The
    /// cursor of `replay` moves on.
    pub async fn replay_batch(
        &self,
        replay: &mut ClaimedReplay,
        destinations: &[String],
        limit: u32,
        lease: Duration,
    ) -> Result<BatchOutcome, StoreError> {
        let Some(upper_bound) = replay.upper_bound else {
            self.finish_replay(replay, "completed", None).await?;
            return Ok(BatchOutcome::Completed);
        };
        let mut args = match_arguments(&replay.filter, destinations)?;
        args.add(upper_bound).map_err(sqlx::Error::Encode)?;
        args.add(replay.cursor).map_err(sqlx::Error::Encode)?;
        args.add(i64::from(limit)).map_err(sqlx::Error::Encode)?;
        let mut tx = self.pool.begin().await?;
        let picked: Vec<(Uuid, Uuid, String)> = sqlx::query_as_with(NEXT_BATCH, args)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = picked.last().map(|(id, _, _)| *id) else {
            drop(tx);
            self.finish_replay(replay, "completed", None).await?;
            return Ok(BatchOutcome::Completed);
        };
        let count = picked.len() as u64;
        let progressed = sqlx::query(PROGRESS)
            .bind(replay.id)
            .bind(replay.lease_token)
            .bind(count as i64)
            .bind(last)
            .bind(lease.as_secs_f64())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if progressed == 0 {
            return Ok(BatchOutcome::LeaseLost);
        }
        let old_ids: Vec<Uuid> = picked.iter().map(|(id, _, _)| *id).collect();
        let new_ids: Vec<Uuid> = picked.iter().map(|_| Uuid::now_v7()).collect();
        let (events, targets): (Vec<Uuid>, Vec<String>) = picked
            .into_iter()
            .map(|(_, event, dest)| (event, dest))
            .unzip();
        sqlx::query(QUEUE_AGAIN)
            .bind(new_ids)
            .bind(events)
            .bind(targets)
            .execute(&mut *tx)
            .await?;
        sqlx::query(MARK_REPLAYED)
            .bind(old_ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        replay.cursor = Some(last);
        Ok(BatchOutcome::Replayed(count))
    }
}
