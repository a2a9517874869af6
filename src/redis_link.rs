//! The optional Redis connection. Redis only accelerates: every caller treats an error as
//! "no answer" and carries on, and after a failure Redis is left alone for a moment so a
//! dead Redis costs no latency.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long one Redis command may take before it counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(100);
/// How long Redis is skipped after a failure.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// A lazily connected, self-healing Redis handle with a key prefix.
#[derive(Clone)]
pub struct RedisLink {
    manager: ConnectionManager,
    prefix: Arc<str>,
    health: Arc<Health>,
}

struct Health {
    started: Instant,
    /// Milliseconds since `started` before which Redis is not tried again.
    paused_until_ms: AtomicU64,
}

/// Why a Redis handle cannot be made: the URL, or the CA file named for `rediss://`.
#[derive(Debug, thiserror::Error)]
pub enum RedisLinkError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    CaFile(#[from] crate::tls::PemFileError),
}

impl RedisLink {
    /// A handle for `url`; no connection is made until the first command. A `rediss://` URL
    /// is verified against the platform's roots, or against `ca_file` alone when one is named
    /// (a private CA).
    pub fn new(
        url: &str,
        prefix: &str,
        ca_file: Option<&Path>,
    ) -> Result<RedisLink, RedisLinkError> {
        let client = match ca_file {
            None => redis::Client::open(url)?,
            Some(ca_file) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(crate::tls::pem::read_certificates_pem(ca_file)?),
                },
            )?,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(250)))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisLink {
            manager,
            prefix: prefix.into(),
            health: Arc::new(Health {
                started: Instant::now(),
                paused_until_ms: AtomicU64::new(0),
            }),
        })
    }

    /// `prefix` + `suffix`: every key hookgate uses.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// Runs `cmd`, or returns `None` when Redis is paused, fails or is slow.
    pub async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        if self.is_paused() {
            return None;
        }
        let mut conn = self.manager.clone();
        let result =
            tokio::time::timeout(RESPONSE_TIMEOUT * 2, cmd.query_async::<T>(&mut conn)).await;
        match result {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                self.pause(&err.to_string());
                None
            }
            Err(_) => {
                self.pause("timed out");
                None
            }
        }
    }

    /// `Ok` when Redis answers a PING now.
    pub async fn ping(&self) -> bool {
        let mut conn = self.manager.clone();
        matches!(
            tokio::time::timeout(
                RESPONSE_TIMEOUT * 2,
                redis::cmd("PING").query_async::<String>(&mut conn)
            )
            .await,
            Ok(Ok(_))
        )
    }

    fn is_paused(&self) -> bool {
        self.now_ms() < self.health.paused_until_ms.load(Ordering::Relaxed)
    }

    fn pause(&self, reason: &str) {
        let until = self.now_ms() + PAUSE_AFTER_FAILURE.as_millis() as u64;
        let previous = self.health.paused_until_ms.swap(until, Ordering::Relaxed);
        if previous <= self.now_ms() {
            tracing::warn!(reason, "redis unavailable; continuing without it");
        }
    }

    fn now_ms(&self) -> u64 {
        self.health.started.elapsed().as_millis() as u64
    }
}
