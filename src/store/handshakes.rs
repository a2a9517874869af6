//! Handshakes hookgate answered itself, kept for `GET /admin/handshakes`: the most recent
//! [`KEPT_PER_SOURCE`] per source.

use super::{Store, StoreError};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// How many handshakes of one source are kept; older ones are deleted as new ones arrive.
const KEPT_PER_SOURCE: i64 = 100;

/// One handshake, as recorded and as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HandshakeRow {
    pub id: Uuid,
    pub source: String,
    pub provider: String,
    /// What kind of check it was, e.g. `url_verification`, `subscribe`, `crc`.
    pub kind: String,
    /// `answered`, or `refused` when its signature or token did not match.
    pub outcome: String,
    /// Why it was refused (a rejection code such as `token_mismatch`).
    pub reason: Option<String>,
    /// What the operator must do, if anything (configure Notion's verification token, confirm
    /// an SNS subscription).
    pub action: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

const INSERT: &str = "
    INSERT INTO handshakes (id, source_id, provider, kind, outcome, reason, action, received_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const TRIM: &str = "
    DELETE FROM handshakes
    WHERE source_id = $1
      AND id < (SELECT id FROM handshakes WHERE source_id = $1
                ORDER BY id DESC OFFSET $2 - 1 LIMIT 1)";

const RECENT: &str = "
    SELECT id, source_id AS source, provider, kind, outcome, reason, action, received_at
    FROM handshakes
    WHERE ($1::text IS NULL OR source_id = $1)
    ORDER BY id DESC
    LIMIT $2";

impl Store {
    /// Records one handshake and forgets that source's oldest beyond [`KEPT_PER_SOURCE`].
    pub async fn record_handshake(&self, handshake: &HandshakeRow) -> Result<(), StoreError> {
        sqlx::query(INSERT)
            .bind(handshake.id)
            .bind(&handshake.source)
            .bind(&handshake.provider)
            .bind(&handshake.kind)
            .bind(&handshake.outcome)
            .bind(&handshake.reason)
            .bind(&handshake.action)
            .bind(handshake.received_at)
            .execute(&self.pool)
            .await?;
        sqlx::query(TRIM)
            .bind(&handshake.source)
            .bind(KEPT_PER_SOURCE)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The most recent handshakes, newest first, of one source or of all.
    pub async fn recent_handshakes(
        &self,
        source: Option<&str>,
        limit: i64,
    ) -> Result<Vec<HandshakeRow>, StoreError> {
        Ok(sqlx::query_as(RECENT)
            .bind(source)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}
