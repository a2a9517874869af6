//! A connection of one's own, outside the pool, for a loop that writes batch after batch.

use super::StoreError;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};
use std::sync::Arc;
use std::time::Duration;

/// How long opening the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One connection, opened on first use and kept from one statement to the next. The pool
/// tests every connection it takes back with a round trip to Postgres, which a loop writing
/// batch after batch would pay once per batch; this pays nothing. After a failed statement the
/// connection is dropped and the next one opens a new one, so a retry never lands on a
/// connection that died with the last try (as the pool's idle ones do when Postgres restarts).
pub(super) struct OwnConnection {
    options: Arc<PgConnectOptions>,
    conn: Option<PgConnection>,
}

impl OwnConnection {
    /// A connection made with `options` (the pool's: same session settings), not opened yet.
    pub(super) fn new(options: Arc<PgConnectOptions>) -> OwnConnection {
        OwnConnection {
            options,
            conn: None,
        }
    }

    /// Runs `statements` on the connection, opening it first if needed.
    pub(super) async fn run<T>(
        &mut self,
        statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(self.connect().await?),
        };
        let result = statements(conn).await;
        if result.is_err() {
            // It may be broken (Postgres restarted) or mid-protocol: never reuse it.
            self.conn = None;
        }
        result
    }

    async fn connect(&self) -> Result<PgConnection, StoreError> {
        tokio::time::timeout(CONNECT_TIMEOUT, self.options.connect())
            .await
            .map_err(|_| {
                let timed_out = std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connecting to Postgres took longer than {CONNECT_TIMEOUT:?}"),
                );
                StoreError::Unavailable(sqlx::Error::Io(timed_out))
            })?
            .map_err(StoreError::from)
    }
}
