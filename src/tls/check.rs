//! The look `check-config` (and a listener, at start and on `SIGHUP`) takes at the certificate
//! and key files a config names: listeners, destinations' `tls`, `[redis] ca_file`. Each
//! problem is a [`Finding`] naming the config key and the file, so the operator knows what to
//! fix before a handshake trips on it.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::expiry::{Expiry, expiry};
use super::identity::load_identity;
use super::pem::load_certificates;
use super::roots::add_ca_file;
use crate::config::{ClientTlsConfig, Config, ListenerTlsConfig};

/// Whether a finding stops hookgate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Works today, needs attention (a certificate about to expire).
    Warning,
    /// Cannot work: the file is unreadable, not PEM, mismatched or expired.
    Error,
}

/// One problem with a file, at the config key that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// The config key, e.g. `server.tls.key_file`.
    pub key: String,
    /// What is wrong, naming the file.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl Finding {
    fn error(key: &str, message: impl ToString) -> Finding {
        Finding {
            severity: Severity::Error,
            key: key.to_owned(),
            message: message.to_string(),
        }
    }
}

/// A file of the config and the key that names it.
#[derive(Debug, Clone, Copy)]
struct NamedFile<'a> {
    key: &'a str,
    path: &'a Path,
}

impl<'a> NamedFile<'a> {
    fn new(key: &'a str, path: &'a Path) -> NamedFile<'a> {
        NamedFile { key, path }
    }
}

/// What checking a file found: its warning, if any, or the error that makes it unusable.
pub type Checked<T> = Result<(T, Option<Finding>), Finding>;

/// Every finding about the TLS files `config` names, in the order of the config. Tables that
/// take a value from an unset variable (`check-config --allow-unset-env`) are skipped.
pub fn tls_file_report(config: &Config) -> Vec<Finding> {
    let now = OffsetDateTime::now_utc();
    let mut findings = Vec::new();
    for (key, listener) in [
        ("server.tls", &config.server.tls),
        ("server.admin_tls", &config.server.admin_tls),
    ] {
        if let Some(files) = listener
            && !config.uses_unset_env(key)
        {
            let checked = checked_listener(key, files, now);
            record(&mut findings, checked.map(|(_, warning)| warning));
        }
    }
    for (index, destination) in config.destinations.iter().enumerate() {
        if !config.uses_unset_env(&format!("destinations[{index}].tls")) {
            let key = format!("destinations[{index}] ({:?}).tls", destination.id);
            check_client_files(&key, &destination.tls, now, &mut findings);
        }
    }
    if let Some(ca_file) = config
        .redis
        .as_ref()
        .and_then(|redis| redis.ca_file.as_deref())
        && !config.uses_unset_env("redis.ca_file")
    {
        let file = NamedFile::new("redis.ca_file", ca_file);
        record(&mut findings, checked_ca(file, now));
    }
    findings
}

/// The certificate and key of the listener configured at `key` (`server.tls`,
/// `server.admin_tls`), checked as [`checked_identity`] does.
pub fn checked_listener(
    key: &str,
    files: &ListenerTlsConfig,
    now: OffsetDateTime,
) -> Checked<Arc<CertifiedKey>> {
    let cert_key = format!("{key}.cert_file");
    let key_key = format!("{key}.key_file");
    checked_identity(
        NamedFile::new(&cert_key, &files.cert_file),
        NamedFile::new(&key_key, &files.key_file),
        now,
    )
}

/// Loads a certificate chain and its key as a listener serves them or a client presents them,
/// checking that they belong together and when the chain ends. Errors name `cert`'s key for
/// the certificate file, `key`'s for the key file.
fn checked_identity(
    cert: NamedFile<'_>,
    key: NamedFile<'_>,
    now: OffsetDateTime,
) -> Checked<Arc<CertifiedKey>> {
    let chain = load_certificates(cert.path).map_err(|err| Finding::error(cert.key, err))?;
    let warning = checked_expiry(cert, &chain, now, Severity::Error)?;
    let identity =
        load_identity(cert.path, key.path).map_err(|err| Finding::error(key.key, err))?;
    Ok((identity, warning))
}

/// Checks a CA file as a trust store takes it: every certificate usable as a trust anchor.
/// A CA file is often a bundle, which still verifies while one of its CAs is valid: it is an
/// error only when every certificate in it has expired, and an expired one among valid ones
/// is a warning.
fn checked_ca(file: NamedFile<'_>, now: OffsetDateTime) -> Result<Option<Finding>, Finding> {
    add_ca_file(&mut RootCertStore::empty(), file.path)
        .map_err(|err| Finding::error(file.key, err))?;
    let certificates = load_certificates(file.path).map_err(|err| Finding::error(file.key, err))?;
    let all_expired = certificates.iter().all(|certificate| {
        matches!(
            expiry(std::slice::from_ref(certificate), now),
            Ok(Expiry::Expired { .. })
        )
    });
    let expired = if all_expired {
        Severity::Error
    } else {
        Severity::Warning
    };
    checked_expiry(file, &certificates, now, expired)
}

/// A destination's `tls` files: the CA file, and the client certificate with its key.
fn check_client_files(
    key: &str,
    files: &ClientTlsConfig,
    now: OffsetDateTime,
    findings: &mut Vec<Finding>,
) {
    if let Some(ca_file) = &files.ca_file {
        let ca_key = format!("{key}.ca_file");
        record(findings, checked_ca(NamedFile::new(&ca_key, ca_file), now));
    }
    let cert_key = format!("{key}.client_cert_file");
    let key_key = format!("{key}.client_key_file");
    let checked = match (&files.client_cert_file, &files.client_key_file) {
        (Some(cert_file), Some(key_file)) => checked_identity(
            NamedFile::new(&cert_key, cert_file),
            NamedFile::new(&key_key, key_file),
            now,
        )
        .map(|(_, warning)| warning),
        (Some(_), None) => Err(Finding::error(
            &key_key,
            "missing: client_cert_file needs its private key",
        )),
        (None, Some(_)) => Err(Finding::error(
            &cert_key,
            "missing: client_key_file needs its certificate",
        )),
        (None, None) => Ok(None),
    };
    record(findings, checked);
}

/// An expired certificate in `file` is a finding of severity `expired` (an error makes the
/// file unusable), one ending soon a warning.
fn checked_expiry(
    file: NamedFile<'_>,
    certificates: &[CertificateDer<'_>],
    now: OffsetDateTime,
    expired: Severity,
) -> Result<Option<Finding>, Finding> {
    let path = file.path.display();
    match expiry(certificates, now)
        .map_err(|reason| Finding::error(file.key, format!("{path}: {reason}")))?
    {
        Expiry::Valid => Ok(None),
        Expiry::Expired { not_after } => {
            let finding = Finding {
                severity: expired,
                key: file.key.to_owned(),
                message: format!(
                    "the certificate in {path} expired on {}",
                    rfc3339(not_after)
                ),
            };
            match expired {
                Severity::Error => Err(finding),
                Severity::Warning => Ok(Some(finding)),
            }
        }
        Expiry::Soon { not_after } => {
            let days = match (not_after - now).whole_seconds().saturating_add(86_399) / 86_400 {
                1 => "1 day".to_owned(),
                days => format!("{days} days"),
            };
            Ok(Some(Finding {
                severity: Severity::Warning,
                key: file.key.to_owned(),
                message: format!(
                    "the certificate in {path} expires on {} (in {days}): renew it",
                    rfc3339(not_after)
                ),
            }))
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn record(findings: &mut Vec<Finding>, checked: Result<Option<Finding>, Finding>) {
    match checked {
        Ok(warning) => findings.extend(warning),
        Err(error) => findings.push(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::testing::{TempDir, self_signed, self_signed_ending};
    use std::rc::Rc;

    fn report(extra: &str) -> Vec<Finding> {
        let text = format!(
            "[database]\nurl = \"postgres://x@127.0.0.1/db\"\n[admin]\ntoken = \"t\"\n{extra}"
        );
        let config = Config::parse(Path::new("test.toml"), &text, Rc::new(|_| None)).unwrap();
        tls_file_report(&config)
    }

    #[test]
    fn usable_files_give_no_finding() {
        let dir = TempDir::new();
        let minted = self_signed();
        let cert = dir.write("server.crt", &minted.cert_pem);
        let key = dir.write("server.key", &minted.key_pem);
        let findings = report(&format!(
            "[server]\ntls = {{ cert_file = {cert:?}, key_file = {key:?} }}\n\
             [redis]\nurl = \"rediss://127.0.0.1:6380\"\nca_file = {cert:?}\n\
             [[destinations]]\nid = \"billing\"\nurl = \"https://billing.internal/\"\n\
             tls = {{ ca_file = {cert:?}, client_cert_file = {cert:?}, client_key_file = {key:?} }}\n"
        ));
        assert_eq!(findings, []);
    }

    #[test]
    fn a_client_certificate_without_its_key_is_an_error_at_the_missing_key() {
        let dir = TempDir::new();
        let cert = dir.write("client.crt", &self_signed().cert_pem);
        let findings = report(&format!(
            "[[destinations]]\nid = \"billing\"\nurl = \"https://billing.internal/\"\n\
             tls = {{ client_cert_file = {cert:?} }}\n"
        ));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(
            findings[0].key,
            r#"destinations[0] ("billing").tls.client_key_file"#
        );
    }

    #[test]
    fn a_redis_ca_file_that_is_not_pem_is_an_error_naming_it() {
        let dir = TempDir::new();
        let ca = dir.write("ca.pem", "not a certificate\n");
        let findings = report(&format!(
            "[redis]\nurl = \"rediss://127.0.0.1:6380\"\nca_file = {ca:?}\n"
        ));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].key, "redis.ca_file");
        assert!(
            findings[0].message.contains(&ca.display().to_string()),
            "{}",
            findings[0]
        );
    }

    #[test]
    fn a_ca_bundle_is_an_error_only_when_every_certificate_in_it_expired() {
        let dir = TempDir::new();
        let yesterday = OffsetDateTime::now_utc() - time::Duration::days(1);
        let expired = self_signed_ending(yesterday).cert_pem;
        let valid = self_signed().cert_pem;
        let destination = |ca: &Path| {
            format!(
                "[[destinations]]\nid = \"billing\"\nurl = \"https://billing.internal/\"\n\
                 tls = {{ ca_file = {ca:?} }}\n"
            )
        };
        let mixed = dir.write("mixed.pem", &format!("{expired}{valid}"));
        let findings = report(&destination(&mixed));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Warning, "{}", findings[0]);

        let stale = dir.write("stale.pem", &expired);
        let findings = report(&destination(&stale));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Error, "{}", findings[0]);
        assert!(
            findings[0].message.contains("expired on"),
            "{}",
            findings[0]
        );
    }
}
