//! What a failed TLS handshake tells an operator. The transport reports it as one more
//! connection error; the attempt log names the certificate problem instead (unknown issuer,
//! expired, issued for another name, a client certificate the server wants), because each has
//! a different fix and none of them is "the destination is down".

use std::error::Error;
use std::io;

use rustls::{AlertDescription, CertificateError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The alerts a server sends when it will not take the client's certificate.
const CLIENT_CERTIFICATE_REFUSED: [AlertDescription; 8] = [
    AlertDescription::CertificateRequired,
    AlertDescription::BadCertificate,
    AlertDescription::UnsupportedCertificate,
    AlertDescription::CertificateRevoked,
    AlertDescription::CertificateExpired,
    AlertDescription::CertificateUnknown,
    AlertDescription::UnknownCA,
    AlertDescription::AccessDenied,
];

/// The TLS failure among `err` and its causes, in words; `None` when TLS was not the cause.
pub fn describe_tls_failure(err: &(dyn Error + 'static)) -> Option<String> {
    let found = causes(err).find_map(|cause| {
        cause
            .downcast_ref::<rustls::Error>()
            .cloned()
            .or_else(|| refusal_in_text(cause))
    });
    found.as_ref().map(describe)
}

/// `err` and its causes.
fn causes<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |cause| next_cause(*cause))
}

/// The cause of `err`. `io::Error` hides the error it wraps from `source()` (it answers that
/// error's own source), so an I/O error's cause is the error it wraps.
fn next_cause<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    match err.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
        Some(wrapped) => Some(wrapped),
        None => err.source(),
    }
}

/// A refusal of our certificate known only by its text. TLS 1.3 ends the client's handshake
/// before the server has checked the client's certificate, so its refusal arrives on the first
/// read, and HTTP/2 keeps only the message of an I/O error: rustls' own text of the alert.
fn refusal_in_text(cause: &dyn Error) -> Option<rustls::Error> {
    let text = cause.to_string();
    CLIENT_CERTIFICATE_REFUSED
        .into_iter()
        .map(rustls::Error::AlertReceived)
        .find(|alert| alert.to_string() == text)
}

/// A rustls error as the attempt log shows it.
fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(certificate) => describe_certificate(certificate),
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
            "the server requires a client certificate (set tls.client_cert_file and \
             tls.client_key_file)"
                .to_owned()
        }
        rustls::Error::AlertReceived(alert) if CLIENT_CERTIFICATE_REFUSED.contains(alert) => {
            format!("the server refused the client certificate ({alert:?})")
        }
        other => format!("handshake failed: {other}"),
    }
}

/// The server's certificate did not verify: why.
fn describe_certificate(err: &CertificateError) -> String {
    match err {
        CertificateError::UnknownIssuer => {
            "unknown issuer: the certificate does not chain to a trusted CA (name a private CA \
             in tls.ca_file)"
                .to_owned()
        }
        CertificateError::Expired => "certificate expired".to_owned(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!(
                "certificate expired (not valid after {})",
                date(not_after.as_secs())
            )
        }
        CertificateError::NotValidYet => "certificate not valid yet".to_owned(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "certificate not valid yet (not valid before {})",
            date(not_before.as_secs())
        ),
        CertificateError::NotValidForName => "certificate is not valid for this name".to_owned(),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let valid_for = match presented.as_slice() {
                [] => "no name".to_owned(),
                names => names.join(", "),
            };
            format!(
                "certificate is not valid for name {}; it is valid for {valid_for}",
                expected.to_str()
            )
        }
        CertificateError::Revoked => "certificate revoked".to_owned(),
        other => format!("invalid certificate: {other}"),
    }
}

/// A certificate's validity bound, RFC 3339 in UTC.
fn date(unix_secs: u64) -> String {
    i64::try_from(unix_secs)
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{unix_secs} (UNIX time)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{ServerName, UnixTime};
    use std::time::Duration;

    fn described(err: CertificateError) -> String {
        describe(&rustls::Error::InvalidCertificate(err))
    }

    fn unix(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    #[test]
    fn each_certificate_problem_is_named() {
        assert!(described(CertificateError::UnknownIssuer).starts_with("unknown issuer: "));
        assert_eq!(
            described(CertificateError::ExpiredContext {
                time: unix(1_700_100_000),
                not_after: unix(1_700_000_000),
            }),
            "certificate expired (not valid after 2023-11-14T22:13:20Z)"
        );
        assert_eq!(described(CertificateError::Expired), "certificate expired");
        assert_eq!(
            described(CertificateError::NotValidYetContext {
                time: unix(1_700_000_000),
                not_before: unix(1_700_100_000),
            }),
            "certificate not valid yet (not valid before 2023-11-16T02:00:00Z)"
        );
        assert_eq!(
            described(CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("billing.internal").unwrap(),
                presented: vec![r#"DnsName("other.internal")"#.into()],
            }),
            r#"certificate is not valid for name billing.internal; it is valid for DnsName("other.internal")"#
        );
        assert_eq!(
            described(CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("10.0.0.5").unwrap(),
                presented: Vec::new(),
            }),
            "certificate is not valid for name 10.0.0.5; it is valid for no name"
        );
        assert_eq!(described(CertificateError::Revoked), "certificate revoked");
        assert_eq!(
            described(CertificateError::BadSignature),
            "invalid certificate: BadSignature"
        );
    }

    #[test]
    fn a_server_refusing_our_certificate_is_told_apart_from_other_handshake_failures() {
        let alert = |description| describe(&rustls::Error::AlertReceived(description));
        assert!(
            alert(AlertDescription::CertificateRequired)
                .starts_with("the server requires a client certificate")
        );
        assert_eq!(
            alert(AlertDescription::UnknownCA),
            "the server refused the client certificate (UnknownCA)"
        );
        assert_eq!(
            alert(AlertDescription::ProtocolVersion),
            "handshake failed: received fatal alert: ProtocolVersion"
        );
    }

    #[test]
    fn the_rustls_error_is_found_inside_the_io_errors_that_carry_it() {
        let rustls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = io::Error::new(io::ErrorKind::InvalidData, rustls);
        let outer = Wrapped(Box::new(io));
        let found = describe_tls_failure(&outer).expect("found through the I/O error");
        assert!(found.starts_with("unknown issuer"), "{found}");

        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(describe_tls_failure(&Wrapped(Box::new(refused))), None);
    }

    #[test]
    fn a_refused_client_certificate_is_recognised_by_rustls_text_alone() {
        let text = rustls::Error::AlertReceived(AlertDescription::CertificateRequired).to_string();
        let io = io::Error::new(io::ErrorKind::InvalidData, text);
        let found = describe_tls_failure(&Wrapped(Box::new(io))).expect("recognised");
        assert!(
            found.starts_with("the server requires a client certificate"),
            "{found}"
        );

        let other = rustls::Error::AlertReceived(AlertDescription::ProtocolVersion).to_string();
        let io = io::Error::new(io::ErrorKind::InvalidData, other);
        assert_eq!(describe_tls_failure(&Wrapped(Box::new(io))), None);
    }

    /// An error whose source is the error it wraps, as hyper's and reqwest's are.
    #[derive(Debug)]
    struct Wrapped(Box<dyn Error + Send + Sync>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&*self.0)
        }
    }
}
