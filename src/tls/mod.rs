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

/// rustls' `ring` provider, key exchange X25519 first.
///
/// Why `ring` rather than `aws-lc-rs` (measured on the 2-core development machine): building
/// `aws-lc-rs` costs about 135 s more CPU on a first compile, which every new user pays before
/// their first webhook, and a full TLS 1.3 handshake with its default post-quantum hybrid
/// (X25519MLKEM768) costs about 1.6 times one with `ring` and X25519. rustls deprecates the
/// `ring` provider for lacking that hybrid; switching is this one function.
///
/// Why reorder: this rustls release puts secp384r1 first in `ring`'s key exchange list, and
/// `ring`'s P-384 made each handshake about 7 times as expensive as X25519.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    use rustls::crypto::ring::{default_provider, kx_group};
    CryptoProvider {
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        ..default_provider()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_exchange_prefers_x25519() {
        let groups: Vec<_> = crypto_provider()
            .kx_groups
            .iter()
            .map(|group| group.name())
            .collect();
        assert_eq!(groups[0], rustls::NamedGroup::X25519, "{groups:?}");
    }
}
