//! Which certificate authorities hookgate trusts: the platform's store (so a company CA
//! installed on the host is trusted, as curl would), the bundled webpki roots (so a container
//! without `ca-certificates` still reaches public services), and a configured CA file.

use std::path::Path;
use std::sync::OnceLock;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

use super::TlsFileError;
use super::pem::load_certificates;

/// The platform's and the bundled roots plus every certificate in `ca_file`, when given.
pub fn trust_store(ca_file: Option<&Path>) -> Result<RootCertStore, TlsFileError> {
    let mut store = RootCertStore::empty();
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // The platform store may hold certificates rustls cannot use (old or odd ones); skipping
    // them is what every TLS client does, since the rest still verify.
    store.add_parsable_certificates(platform_roots().iter().cloned());
    if let Some(path) = ca_file {
        add_ca_file(&mut store, path)?;
    }
    Ok(store)
}

/// Adds every certificate of `path` as a trust anchor; a certificate that is not a usable CA
/// certificate is an error naming the file, not silently skipped as with the platform store.
pub fn add_ca_file(store: &mut RootCertStore, path: &Path) -> Result<(), TlsFileError> {
    for certificate in load_certificates(path)? {
        store
            .add(certificate)
            .map_err(|source| TlsFileError::UnusableCa {
                path: path.to_owned(),
                reason: source.to_string(),
            })?;
    }
    Ok(())
}

/// The platform's trusted certificates, read once per process: reading them scans a
/// directory of a few hundred files.
fn platform_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "skipped part of the platform's certificate store");
        }
        found.certs
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_roots_are_always_trusted() {
        let store = trust_store(None).unwrap();
        assert!(store.len() >= webpki_roots::TLS_SERVER_ROOTS.len());
    }

    #[test]
    fn a_missing_ca_file_is_an_error_naming_it() {
        let err = trust_store(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
