//! The benchmark's own private CA and the TLS sink's certificate, minted at each run so no key
//! is ever committed: `DIR/ca.pem` (what hookgate's destination names as `tls.ca_file`),
//! `DIR/sink.crt` and `DIR/sink.key` (what the sink serves, for 127.0.0.1 and localhost).

use std::path::Path;

use hookgate::tls::pem::{load_certificates, load_private_key};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Writes the CA certificate and the sink's certificate and key into `dir`.
pub fn write(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "hookgate-bench CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

    let mut sink = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    sink.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = sink.signed_by(&key, &issuer)?;

    std::fs::write(dir.join("ca.pem"), issuer.pem())?;
    std::fs::write(dir.join("sink.crt"), cert.pem())?;
    std::fs::write(dir.join("sink.key"), key.serialize_pem())?;
    Ok(())
}

/// The sink's TLS configuration: `cert_file` and `key_file`, with hookgate's crypto provider.
pub fn server_config(cert_file: &Path, key_file: &Path) -> anyhow::Result<rustls::ServerConfig> {
    Ok(
        rustls::ServerConfig::builder_with_provider(hookgate::tls::crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(load_certificates(cert_file)?, load_private_key(key_file)?)?,
    )
}
