//! Certificates minted by the test itself (rcgen): a private CA, server certificates it
//! issues (for a name, expired, for another name), client certificates for mutual TLS, all
//! written as PEM files into a directory of the test's own.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::PathBuf;
use time::{Duration, OffsetDateTime};

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Minted {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A private certificate authority whose files live in a fresh temporary directory.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
    /// The CA certificate (PEM), what a client's `ca_file` names.
    pub ca_file: PathBuf,
}

impl TestCa {
    /// A new CA named `name`, valid from yesterday for a year.
    pub fn new(name: &str) -> TestCa {
        let dir = std::env::temp_dir().join(format!("hookgate-certs-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        valid_around_now(&mut params);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, issuer.pem()).unwrap();
        TestCa {
            issuer,
            dir,
            ca_file,
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid now.
    pub fn server(&self, file_stem: &str, names: &[&str]) -> Minted {
        let mut params = leaf(names, ExtendedKeyUsagePurpose::ServerAuth);
        valid_around_now(&mut params);
        self.issue(file_stem, params)
    }

    /// A client certificate (for mutual TLS) with common name `name`.
    pub fn client(&self, file_stem: &str, name: &str) -> Minted {
        let mut params = leaf(&[], ExtendedKeyUsagePurpose::ClientAuth);
        params.distinguished_name.push(DnType::CommonName, name);
        valid_around_now(&mut params);
        self.issue(file_stem, params)
    }

    fn issue(&self, file_stem: &str, params: CertificateParams) -> Minted {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let minted = Minted {
            cert_file: self.dir.join(format!("{file_stem}.crt")),
            key_file: self.dir.join(format!("{file_stem}.key")),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
        std::fs::write(&minted.cert_file, &minted.cert_pem).unwrap();
        std::fs::write(&minted.key_file, &minted.key_pem).unwrap();
        minted
    }

    /// A server certificate for `names` that ends `days` from now (before now when negative).
    pub fn server_expiring_in(&self, file_stem: &str, names: &[&str], days: i64) -> Minted {
        let mut params = leaf(names, ExtendedKeyUsagePurpose::ServerAuth);
        let now = OffsetDateTime::now_utc();
        params.not_after = now + Duration::days(days);
        params.not_before = params.not_after.min(now) - Duration::days(30);
        self.issue(file_stem, params)
    }

    /// A server certificate for `names` that expired yesterday.
    pub fn expired_server(&self, file_stem: &str, names: &[&str]) -> Minted {
        self.server_expiring_in(file_stem, names, -1)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn leaf(names: &[&str], usage: ExtendedKeyUsagePurpose) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params
}

fn valid_around_now(params: &mut CertificateParams) {
    params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
}
