//! The TLS side of hookgate's own listeners (`[server] tls`, `admin_tls`): a rustls server
//! configuration whose certificate can be replaced while the listener runs. The certificate
//! is chosen at each handshake, so a renewal reaches new connections at once while open
//! connections keep the session they negotiated and are never dropped.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

use super::check::{Finding, checked_listener};
use super::crypto_provider;
use crate::config::ListenerTlsConfig;

/// A listener's certificate and key as last loaded from its files.
#[derive(Debug)]
pub struct ListenerCertificate {
    /// The config key of the listener's files, e.g. `server.tls`.
    key: &'static str,
    files: ListenerTlsConfig,
    current: ArcSwap<CertifiedKey>,
}

impl ListenerCertificate {
    /// Loads the files of the listener configured at `key`. A file that cannot be used, or an
    /// expired certificate, is an error naming the file and its key; a certificate ending
    /// soon is logged as a warning.
    pub fn load(key: &'static str, files: &ListenerTlsConfig) -> Result<Arc<Self>, Finding> {
        let identity = load_checked(key, files)?;
        Ok(Arc::new(ListenerCertificate {
            key,
            files: files.clone(),
            current: ArcSwap::new(identity),
        }))
    }

    /// Reads the files again and serves what they hold from the next handshake on. On an
    /// error the certificate served so far stays, so a half-written renewal breaks nothing.
    pub fn reload(&self) -> Result<(), Finding> {
        self.current.store(load_checked(self.key, &self.files)?);
        Ok(())
    }

    /// The config key of this listener's files.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The certificate file, for the log.
    pub fn cert_file(&self) -> &Path {
        &self.files.cert_file
    }

    /// A server configuration (no client certificates) that serves the current certificate.
    /// The listener adds its ALPN protocols.
    pub fn server_config(self: &Arc<Self>) -> ServerConfig {
        ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>)
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current.load_full()
    }
}

impl ResolvesServerCert for ListenerCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn load_checked(key: &str, files: &ListenerTlsConfig) -> Result<Arc<CertifiedKey>, Finding> {
    let (identity, warning) = checked_listener(key, files, OffsetDateTime::now_utc())?;
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::testing::{Minted, TempDir, self_signed};

    fn write_pair(files: &ListenerTlsConfig, minted: &Minted) {
        std::fs::write(&files.cert_file, &minted.cert_pem).unwrap();
        std::fs::write(&files.key_file, &minted.key_pem).unwrap();
    }

    fn served(certificate: &ListenerCertificate) -> Vec<u8> {
        certificate.current().cert[0].to_vec()
    }

    #[test]
    fn a_reload_serves_the_new_files_and_a_bad_one_keeps_the_last_good_certificate() {
        let dir = TempDir::new();
        let (first, second) = (self_signed(), self_signed());
        let files = ListenerTlsConfig {
            cert_file: dir.write("server.crt", &first.cert_pem),
            key_file: dir.write("server.key", &first.key_pem),
        };
        let certificate = ListenerCertificate::load("server.tls", &files).unwrap();
        assert_eq!(served(&certificate), first.der.to_vec());

        write_pair(&files, &second);
        certificate.reload().unwrap();
        assert_eq!(served(&certificate), second.der.to_vec());

        std::fs::write(&files.key_file, &first.key_pem).unwrap();
        let err = certificate.reload().unwrap_err();
        assert_eq!(err.key, "server.tls.key_file");
        assert!(err.message.contains("server.key"), "{err}");
        assert_eq!(served(&certificate), second.der.to_vec());
    }

    #[test]
    fn a_certificate_file_that_is_not_pem_is_refused_at_load_naming_its_key() {
        let dir = TempDir::new();
        let files = ListenerTlsConfig {
            cert_file: dir.write("server.crt", "not a certificate\n"),
            key_file: dir.write("server.key", &self_signed().key_pem),
        };
        let err = ListenerCertificate::load("server.admin_tls", &files).unwrap_err();
        assert_eq!(err.key, "server.admin_tls.cert_file");
        assert!(err.message.contains("server.crt"), "{err}");
    }
}
