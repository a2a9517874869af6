//! Signed-out console sessions: the only console state kept in Postgres (see
//! `migrations/0006_console_signouts.sql`).

use super::{Store, StoreError};
use time::OffsetDateTime;

/// Records the sign-out and forgets the sign-outs of sessions that have expired since, so the
/// table holds at most the sessions of one session lifetime.
const SIGN_OUT: &str = r#"
WITH purged AS (DELETE FROM console_signouts WHERE expires_at < now())
INSERT INTO console_signouts (nonce, expires_at) VALUES ($1, $2)
ON CONFLICT (nonce) DO NOTHING
"#;

const IS_SIGNED_OUT: &str = "SELECT EXISTS (SELECT 1 FROM console_signouts WHERE nonce = $1)";

impl Store {
    /// Refuses the console session `nonce` from now on (it would expire at `expires_at`).
    pub async fn sign_out_console_session(
        &self,
        nonce: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(SIGN_OUT)
            .bind(nonce)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the console session `nonce` was signed out.
    pub async fn console_session_signed_out(&self, nonce: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(IS_SIGNED_OUT)
            .bind(nonce)
            .fetch_one(&self.pool)
            .await?)
    }
}
