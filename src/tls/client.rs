//! The TLS configuration of every outgoing HTTPS connection (deliveries, the admin client,
//! `sign --send`): verified against [`trust_store`], optionally presenting a client
//! certificate, offering HTTP/2 and HTTP/1.1. There is deliberately no way to turn
//! verification off.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;

use super::identity::load_identity;
use super::roots::trust_store;
use super::{TlsFileError, crypto_provider};
use crate::config::ClientTlsConfig;

/// A client configuration trusting the default roots plus `files.ca_file`, presenting
/// `files`' client certificate when one is named.
pub fn client_config(files: &ClientTlsConfig) -> Result<ClientConfig, TlsFileError> {
    let roots = trust_store(files.ca_file.as_deref())?;
    let builder = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_root_certificates(roots);
    let mut config = match client_identity(files)? {
        Some(identity) => builder.with_client_cert_resolver(Arc::new(AlwaysPresent(identity))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A reqwest client builder whose TLS is [`client_config`] of `files`: every reqwest client in
/// hookgate starts here (deliveries take [`client_config`] to hyper directly), so none depends
/// on a process-wide crypto provider.
pub fn http_client_builder(
    files: &ClientTlsConfig,
) -> Result<reqwest::ClientBuilder, TlsFileError> {
    Ok(reqwest::Client::builder().use_preconfigured_tls(client_config(files)?))
}

/// The client certificate and key, when both are named; one without the other is an error.
fn client_identity(files: &ClientTlsConfig) -> Result<Option<Arc<CertifiedKey>>, TlsFileError> {
    match (&files.client_cert_file, &files.client_key_file) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => load_identity(cert, key).map(Some),
        (Some(_), None) => Err(TlsFileError::Incomplete(
            "client_cert_file needs client_key_file",
        )),
        (None, Some(_)) => Err(TlsFileError::Incomplete(
            "client_key_file needs client_cert_file",
        )),
    }
}

/// Presents the one configured client certificate whenever the server asks for one.
#[derive(Debug)]
struct AlwaysPresent(Arc<CertifiedKey>);

impl ResolvesClientCert for AlwaysPresent {
    fn resolve(
        &self,
        _acceptable_issuers: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}
