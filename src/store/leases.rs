//! Pull leases: a consumer of a pull destination leases due deliveries through the same claim
//! a push worker uses (each lease with a random token), then ends each lease by its id, acked
//! or nacked. A lease it never ends expires: the attempt is recorded as failed and the delivery
//! is due again at once, or dead once its attempts are spent.

use super::deliveries::ClaimedDelivery;
use super::{NextState, Store, StoreError};
use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::Duration;
use uuid::Uuid;

/// What a lease id stands for: one attempt of one delivery, and the token only that lease got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseRef {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub token: Uuid,
}

/// How a consumer ended one lease.
#[derive(Debug, Clone)]
pub struct LeaseEnd {
    pub lease: LeaseRef,
    /// [`NextState::Delivered`] for an ack; a retry or dead for a nack.
    pub next: NextState,
    /// Recorded with the attempt: why it was nacked.
    pub error: Option<String>,
}

/// Deliveries of `destination` whose pull lease expired, now in `state` (`pending` or `dead`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExpiredLeases {
    pub destination_id: String,
    pub state: String,
    pub count: i64,
}

/// What an expired lease's attempt records.
pub const LEASE_EXPIRED: &str = "lease expired: not acknowledged within visibility_ms";

/// A lease's attempt's duration, from `leased_at` until now, in milliseconds.
const LEASE_MS: &str = "LEAST(extract(epoch FROM now() - leased_at) * 1000, 2147483647)::int";

/// Expired pull leases (of every destination, or of `$3` only), each an attempt that failed:
/// recorded, and the delivery due again at once, or dead when it had `max_attempts` (`$1`,
/// `$2`: per destination; unlimited for one no longer configured). The lease started when the
/// claim last set `updated_at`.
static EXPIRE: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH expired AS (
    SELECT d.id, d.attempts, d.updated_at AS leased_at,
           d.attempts >= COALESCE(limits.max_attempts, 2147483647) AS spent
    FROM deliveries d
    LEFT JOIN UNNEST($1::text[], $2::int[]) AS limits(destination_id, max_attempts)
           ON limits.destination_id = d.destination_id
    WHERE d.lease_until < now() AND d.lease_token IS NOT NULL AND d.state = 'in_flight'
      AND ($3::text IS NULL OR d.destination_id = $3)
    ORDER BY d.lease_until
    LIMIT 1000
    FOR UPDATE OF d SKIP LOCKED
), updated AS (
    UPDATE deliveries d
    SET state = CASE WHEN x.spent THEN 'dead' ELSE 'pending' END,
        run_at = now(), lease_until = NULL, lease_token = NULL, last_status = NULL,
        last_error = CASE WHEN x.spent
                          THEN format('exhausted after %s attempts; last: %s', x.attempts, $4::text)
                          ELSE $4::text END,
        updated_at = now()
    FROM expired x
    WHERE d.id = x.id
    RETURNING d.id, d.destination_id, d.state, x.attempts, x.leased_at
), recorded AS (
    INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, error)
    SELECT id, attempts, leased_at, {LEASE_MS}, $4::text
    FROM updated
    ON CONFLICT DO NOTHING
)
SELECT destination_id, state, count(*) AS count FROM updated GROUP BY destination_id, state
"#
    )
});

/// Ends the leases that are still held, exactly as given (same attempt, same token, not
/// expired) and of destination `$1`; records each as an attempt that took from lease to end:
/// an ack on the delivery row (as [`super::deliveries`] keeps every delivering attempt), a nack
/// in `delivery_attempts`. Answers the deliveries whose lease it ended.
static END: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
WITH input AS (
    SELECT * FROM UNNEST($2::uuid[], $3::int[], $4::uuid[], $5::text[], $6::timestamptz[], $7::text[])
        AS t(id, attempt, token, state, run_at, error)
), held AS (
    -- One lookup by primary key per lease, lateral so that no plan can read more. The
    -- lease's expiry is tested through COALESCE so that it does not imply `lease_until IS
    -- NOT NULL`: the partial index on leases, nearly empty whenever it was last analyzed,
    -- would otherwise look cheaper to scan whole than one key lookup.
    SELECT h.id, h.leased_at, i.attempt, i.state, i.run_at, i.error
    FROM input i
    CROSS JOIN LATERAL (
        SELECT d.id, d.updated_at AS leased_at FROM deliveries d
        WHERE d.id = i.id AND d.destination_id = $1 AND d.state = 'in_flight'
          AND d.attempts = i.attempt AND d.lease_token = i.token
          AND COALESCE(d.lease_until >= now(), false)
        FOR UPDATE
    ) h
), updated AS (
    UPDATE deliveries d
    SET state = h.state,
        run_at = COALESCE(h.run_at, d.run_at),
        lease_until = NULL, lease_token = NULL, last_status = NULL, last_error = h.error,
        updated_at = now(),
        delivered_started_at = CASE WHEN h.state = 'delivered' THEN h.leased_at END,
        delivered_duration_ms = CASE WHEN h.state = 'delivered' THEN {LEASE_MS} END
    FROM held h
    WHERE d.id = h.id
    RETURNING d.id, d.state, h.attempt, h.error, h.leased_at
), recorded AS (
    INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, error)
    SELECT id, attempt, leased_at, {LEASE_MS}, error
    FROM updated
    WHERE state <> 'delivered'
    ON CONFLICT DO NOTHING
)
SELECT id FROM updated
"#
    )
});

impl Store {
    /// Leases up to `limit` due deliveries of pull destination `destination` for
    /// `visibility` (`dead_head_blocks`: as for [`Store::claim_deliveries`]), after expiring its leases that ran out (see [`Store::expire_pull_leases`]).
    /// Answers what was leased and what expired.
    pub async fn lease_deliveries(
        &self,
        destination: &str,
        max_attempts: u32,
        limit: u32,
        visibility: Duration,
        dead_head_blocks: bool,
    ) -> Result<(Vec<ClaimedDelivery>, Vec<ExpiredLeases>), StoreError> {
        let expired = self
            .expire_pull_leases(&[(destination, max_attempts)], Some(destination))
            .await?;
        let leased = self
            .claim(
                destination,
                limit,
                visibility,
                super::deliveries::Claimant::PullConsumer,
                dead_head_blocks,
            )
            .await?;
        Ok((leased, expired))
    }

    /// Ends expired pull leases of the destinations in `limits` (with their `max_attempts`), or
    /// only of `only`: each is a failed attempt, due again at once or dead when its attempts
    /// are spent. Ends at most a thousand per call.
    pub async fn expire_pull_leases(
        &self,
        limits: &[(&str, u32)],
        only: Option<&str>,
    ) -> Result<Vec<ExpiredLeases>, StoreError> {
        let max = |attempts: u32| i32::try_from(attempts).unwrap_or(i32::MAX);
        Ok(sqlx::query_as(&EXPIRE)
            .bind(limits.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(limits.iter().map(|(_, n)| max(*n)).collect::<Vec<_>>())
            .bind(only)
            .bind(LEASE_EXPIRED)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Ends the given leases of `destination` that it still holds; answers the delivery ids of
    /// those it ended. The others (expired, leased again, ended before, another destination's,
    /// or never issued) are left alone.
    pub async fn end_leases(
        &self,
        destination: &str,
        ends: &[LeaseEnd],
    ) -> Result<HashSet<Uuid>, StoreError> {
        let state = |end: &LeaseEnd| end.next.stored_state();
        let run_at = |end: &LeaseEnd| end.next.run_at();
        let ended: Vec<Uuid> = sqlx::query_scalar(&END)
            .bind(destination)
            .bind(ends.iter().map(|e| e.lease.delivery_id).collect::<Vec<_>>())
            .bind(ends.iter().map(|e| e.lease.attempt).collect::<Vec<_>>())
            .bind(ends.iter().map(|e| e.lease.token).collect::<Vec<_>>())
            .bind(ends.iter().map(state).collect::<Vec<_>>())
            .bind(ends.iter().map(run_at).collect::<Vec<_>>())
            .bind(ends.iter().map(|e| e.error.as_deref()).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await?;
        Ok(ended.into_iter().collect())
    }

    /// Which of `ids` are deliveries to `destination`.
    pub async fn deliveries_of(
        &self,
        destination: &str,
        ids: &[Uuid],
    ) -> Result<HashSet<Uuid>, StoreError> {
        let found: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM deliveries WHERE id = ANY($1) AND destination_id = $2",
        )
        .bind(ids)
        .bind(destination)
        .fetch_all(&self.pool)
        .await?;
        Ok(found.into_iter().collect())
    }
}
