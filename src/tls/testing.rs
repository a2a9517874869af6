//! Certificates minted by unit tests (rcgen): self-signed, for `localhost`, ending when the
//! test needs, and written to files of the test's own.

use std::path::PathBuf;

use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// A certificate and its key.
pub struct Minted {
    pub der: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A self-signed certificate for `localhost`, valid from a month ago until `not_after`.
pub fn self_signed_ending(not_after: OffsetDateTime) -> Minted {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = not_after.min(OffsetDateTime::now_utc()) - Duration::days(30);
    params.not_after = not_after;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Minted {
        der: cert.der().clone(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A self-signed certificate for `localhost` valid for a year.
pub fn self_signed() -> Minted {
    self_signed_ending(OffsetDateTime::now_utc() + Duration::days(365))
}

/// A fresh empty directory, removed with everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("hookgate-tls-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `contents` to the file `name` in this directory and answers its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
