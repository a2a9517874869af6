//! Fetching signing certificates: the only I/O of verification. A certificate URL has already
//! been allowed (see `cert_url`) when it gets here; this bounds what fetching it may cost (a
//! short timeout, a size cap, no redirects, a few fetches at a time) and keeps what was fetched,
//! since a provider signs with the same certificate for months.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use url::Url;

use super::Rejection;
use super::certificate::SigningCertificate;
use crate::config::ClientTlsConfig;
use crate::tls::client::http_client_builder;

/// A whole fetch (waiting for a slot, connecting, reading) gives up after this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A PEM certificate is 1 to 3 KiB; anything larger than this is not one.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
/// Certificates kept; providers use a handful of URLs, rotated yearly.
const CAPACITY: usize = 64;
/// Fetches in flight at once, so a burst of requests naming new URLs cannot open many
/// connections.
const CONCURRENT_FETCHES: usize = 4;

/// Certificates by URL, fetched on first use; cheap to clone (one shared cache).
#[derive(Clone)]
pub(super) struct CertificateCache {
    inner: Arc<Inner>,
}

struct Inner {
    client: OnceLock<Result<reqwest::Client, String>>,
    entries: Mutex<Entries>,
    fetches: Semaphore,
    timeout: Duration,
}

/// A bounded map: the oldest insertion is evicted first.
#[derive(Default)]
struct Entries {
    by_url: HashMap<String, Arc<SigningCertificate>>,
    order: VecDeque<String>,
}

impl Default for CertificateCache {
    fn default() -> Self {
        CertificateCache::with_timeout(FETCH_TIMEOUT)
    }
}

impl std::fmt::Debug for CertificateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.lock().by_url.len();
        f.debug_struct("CertificateCache")
            .field("cached", &cached)
            .finish()
    }
}

impl CertificateCache {
    pub(super) fn with_timeout(timeout: Duration) -> CertificateCache {
        CertificateCache {
            inner: Arc::new(Inner {
                client: OnceLock::new(),
                entries: Mutex::default(),
                fetches: Semaphore::new(CONCURRENT_FETCHES),
                timeout,
            }),
        }
    }

    /// The certificate at `url` (already allowed), from the cache or fetched. Every failure is
    /// logged with its cause and answered `certificate_unavailable` (not fetched) or
    /// `certificate_invalid` (fetched, unusable).
    pub(super) async fn get(&self, url: &Url) -> Result<Arc<SigningCertificate>, Rejection> {
        if let Some(found) = self.lock().by_url.get(url.as_str()) {
            return Ok(found.clone());
        }
        let fetched = tokio::time::timeout(self.inner.timeout, self.fetch(url))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {:?}", self.inner.timeout)));
        let pem = fetched.map_err(|reason| {
            tracing::warn!(url = %url, %reason, "signing certificate not fetched");
            Rejection::CertificateUnavailable
        })?;
        let certificate = SigningCertificate::from_pem(url.as_str(), &pem).map_err(|reason| {
            tracing::warn!(url = %url, %reason, "signing certificate unusable");
            Rejection::CertificateInvalid
        })?;
        Ok(self.insert(certificate))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic elsewhere while holding the lock leaves the map consistent (each operation
        // is a single insert or remove), so a poisoned lock is still usable.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn insert(&self, certificate: SigningCertificate) -> Arc<SigningCertificate> {
        let certificate = Arc::new(certificate);
        let mut entries = self.lock();
        let url = certificate.url().to_string();
        if entries
            .by_url
            .insert(url.clone(), certificate.clone())
            .is_none()
        {
            entries.order.push_back(url);
        }
        while entries.order.len() > CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.by_url.remove(&oldest);
            }
        }
        certificate
    }

    /// The body at `url`: a `200` of at most [`MAX_CERTIFICATE_BYTES`], redirects refused.
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>, String> {
        let _slot = self
            .inner
            .fetches
            .acquire()
            .await
            .map_err(|_| "the fetch limiter is closed".to_string())?;
        let client = self.client()?;
        let unavailable = |error: reqwest::Error| error.to_string();
        let mut response = client.get(url.clone()).send().await.map_err(unavailable)?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(format!("answered {status}"));
        }
        let too_large = || format!("larger than {MAX_CERTIFICATE_BYTES} bytes");
        if response
            .content_length()
            .is_some_and(|length| length > MAX_CERTIFICATE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
            if body.len() + chunk.len() > MAX_CERTIFICATE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The client, built on first use: verified TLS as everywhere in hookgate, no redirects (a
    /// redirect could leave the allowed URLs), and no idle connections kept (fetches are rare,
    /// and each ingest worker runs its own runtime).
    fn client(&self) -> Result<&reqwest::Client, String> {
        let built = self.inner.client.get_or_init(|| {
            http_client_builder(&ClientTlsConfig::default())
                .map_err(|error| error.to_string())?
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .map_err(|error| error.to_string())
        });
        built
            .as_ref()
            .map_err(|error| format!("no HTTP client: {error}"))
    }
}
