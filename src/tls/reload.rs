//! `SIGHUP` makes the listeners read their certificate files again: a renewed certificate
//! is served without a restart and without dropping a connection.

use std::sync::Arc;

use super::server::ListenerCertificate;

/// The certificates of the listeners this process serves over TLS (none, one or both).
#[derive(Debug, Clone, Default)]
pub struct CertificateReloader(Vec<Arc<ListenerCertificate>>);

impl CertificateReloader {
    pub fn new(certificates: impl IntoIterator<Item = Arc<ListenerCertificate>>) -> Self {
        CertificateReloader(certificates.into_iter().collect())
    }

    /// Reloads every listener's certificate, logging each outcome: an error (naming the
    /// file) leaves that listener serving its previous certificate.
    pub fn reload_all(&self) {
        for certificate in &self.0 {
            match certificate.reload() {
                Ok(()) => tracing::info!(
                    cert_file = %certificate.cert_file().display(),
                    "{}: certificate reloaded",
                    certificate.key()
                ),
                Err(finding) => {
                    tracing::error!("{finding}; still serving the certificate loaded before")
                }
            }
        }
    }
}
