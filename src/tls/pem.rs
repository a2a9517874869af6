//! Certificates and private keys from PEM files, with errors that name the file and what was
//! wrong with it, so a bad path in the config is a precise `check-config` error.

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};

/// A PEM file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PemFileError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a PEM file of {what}: {reason}", path.display())]
    NotPem {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("{} holds no {what}", path.display())]
    Empty { path: PathBuf, what: &'static str },
}

/// Every certificate in the PEM file at `path` (a chain: leaf first), at least one.
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemFileError> {
    certificates_in(path, &read(path)?)
}

/// The PEM text of `path` after checking that it holds at least one certificate, for
/// libraries that take PEM bytes rather than parsed certificates.
pub fn read_certificates_pem(path: &Path) -> Result<Vec<u8>, PemFileError> {
    let text = read(path)?;
    certificates_in(path, &text)?;
    Ok(text)
}

fn certificates_in(path: &Path, text: &[u8]) -> Result<Vec<CertificateDer<'static>>, PemFileError> {
    const WHAT: &str = "certificates";
    let certificates = CertificateDer::pem_slice_iter(text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| not_pem(path, WHAT, err))?;
    if certificates.is_empty() {
        return Err(PemFileError::Empty {
            path: path.to_owned(),
            what: WHAT,
        });
    }
    Ok(certificates)
}

/// The private key (PKCS#8, PKCS#1 or SEC1) in the PEM file at `path`.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemFileError> {
    const WHAT: &str = "a private key";
    let text = read(path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|err| match err {
        pem::Error::NoItemsFound => PemFileError::Empty {
            path: path.to_owned(),
            what: WHAT,
        },
        other => not_pem(path, WHAT, other),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, PemFileError> {
    std::fs::read(path).map_err(|source| PemFileError::Unreadable {
        path: path.to_owned(),
        source,
    })
}

fn not_pem(path: &Path, what: &'static str, err: pem::Error) -> PemFileError {
    PemFileError::NotPem {
        path: path.to_owned(),
        what,
        reason: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, contents: &[u8]) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("hookgate-pem-{}-{name}", uuid::Uuid::now_v7()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_missing_file_is_named_with_its_cause() {
        let err = load_certificates(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(matches!(err, PemFileError::Unreadable { .. }));
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/ca.pem: ")
        );
    }

    #[test]
    fn a_file_without_pem_blocks_holds_nothing() {
        let path = temp("empty.pem", b"just text\n");
        assert!(matches!(
            load_certificates(&path).unwrap_err(),
            PemFileError::Empty { .. }
        ));
        assert!(matches!(
            load_private_key(&path).unwrap_err(),
            PemFileError::Empty { .. }
        ));
    }

    #[test]
    fn a_broken_pem_block_is_not_pem() {
        let path = temp(
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        );
        let err = load_certificates(&path).unwrap_err();
        assert!(matches!(err, PemFileError::NotPem { .. }), "{err}");
    }
}
