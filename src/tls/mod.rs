//! TLS for every connection hookgate opens or accepts. One crypto provider for the whole
//! binary (rustls with `ring`: it builds without cmake or a C++ toolchain and is the smaller of
//! rustls' two providers), PEM files read one way, and one way to build a trust store.

pub mod check;
pub mod client;
pub mod expiry;
pub mod identity;
pub mod pem;
pub mod reload;
pub mod roots;
pub mod server;
#[cfg(test)]
mod testing;

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub use pem::PemFileError;

/// The crypto provider every TLS configuration in hookgate uses.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(ring_provider())
}

/// Makes [`crypto_provider`] the process default, for libraries that build their own rustls
/// configuration from it (sqlx, redis). Idempotent: a second call, or a default already
/// installed by another caller in the same process (tests start many apps), is fine.
pub fn install_default_provider() {
    let _ = ring_provider().install_default();
}

/// rustls deprecates its `ring` provider because `ring` lacks the post-quantum hybrid key
/// exchange (X25519MLKEM768) that `aws-lc-rs` offers. hookgate still uses `ring`: the
/// connections it makes and accepts are to its own infrastructure, and `aws-lc-rs` adds a C
/// library build to every first compile. The one place to switch providers is here.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A certificate, key or CA file named in the configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    #[error(transparent)]
    Pem(#[from] PemFileError),
    #[error("{} is not the private key of {}", key.display(), cert.display())]
    KeyMismatch { key: PathBuf, cert: PathBuf },
    #[error("{} is not a usable private key: {reason}", path.display())]
    UnusableKey { path: PathBuf, reason: String },
    #[error("{} is not a usable CA certificate: {reason}", path.display())]
    UnusableCa { path: PathBuf, reason: String },
    #[error("{0}")]
    Incomplete(&'static str),
}
