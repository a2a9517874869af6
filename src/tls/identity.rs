//! A certificate chain with its private key, as a TLS client presents it (mutual TLS) or a
//! listener serves it, checked to belong together when loaded rather than at the first
//! handshake.

use std::path::Path;
use std::sync::Arc;

use rustls::sign::CertifiedKey;

use super::TlsFileError;
use super::crypto_provider;
use super::pem::{load_certificates, load_private_key};

/// Loads `cert_file` (leaf first) and `key_file` and checks that the key is the one the leaf
/// certificate was issued for.
pub fn load_identity(cert_file: &Path, key_file: &Path) -> Result<Arc<CertifiedKey>, TlsFileError> {
    let chain = load_certificates(cert_file)?;
    let key = load_private_key(key_file)?;
    CertifiedKey::from_der(chain, key, &crypto_provider())
        .map(Arc::new)
        .map_err(|err| match err {
            rustls::Error::InconsistentKeys(_) => TlsFileError::KeyMismatch {
                key: key_file.to_owned(),
                cert: cert_file.to_owned(),
            },
            other => TlsFileError::UnusableKey {
                path: key_file.to_owned(),
                reason: other.to_string(),
            },
        })
}
