//! Certificate and key files as the TLS client configuration loads them.

use crate::certs::TestCa;
use hookgate::config::ClientTlsConfig;
use hookgate::tls::TlsFileError;
use hookgate::tls::client::client_config;

#[test]
fn a_client_certificate_with_its_own_key_is_accepted() {
    let ca = TestCa::new("hookgate test CA");
    let client = ca.client("client", "hookgate");
    let files = ClientTlsConfig {
        ca_file: Some(ca.ca_file.clone()),
        client_cert_file: Some(client.cert_file),
        client_key_file: Some(client.key_file),
    };
    let config = client_config(&files).expect("a matching certificate and key");
    assert!(config.client_auth_cert_resolver.has_certs());
}

#[test]
fn a_key_of_another_certificate_is_an_error_naming_the_key() {
    let ca = TestCa::new("hookgate test CA");
    let client = ca.client("client", "hookgate");
    let other = ca.server("other", &["localhost"]);
    let files = ClientTlsConfig {
        ca_file: None,
        client_cert_file: Some(client.cert_file.clone()),
        client_key_file: Some(other.key_file.clone()),
    };
    let err = client_config(&files).unwrap_err();
    assert!(matches!(err, TlsFileError::KeyMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not the private key of {}",
            other.key_file.display(),
            client.cert_file.display()
        )
    );
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let ca = TestCa::new("hookgate test CA");
    let client = ca.client("client", "hookgate");
    let files = ClientTlsConfig {
        client_cert_file: Some(client.cert_file),
        ..ClientTlsConfig::default()
    };
    let err = client_config(&files).unwrap_err();
    assert_eq!(err.to_string(), "client_cert_file needs client_key_file");
}
