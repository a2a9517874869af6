//! Errors in provider files and secrets, and the reasons a request is refused.

use std::path::PathBuf;

/// A provider file, a configured secret, or a sign request that is not usable. Messages name the
/// provider (and file, when loaded from a directory), the key and why; they never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The file is not valid TOML or does not match the schema (unknown key, wrong type).
    #[error("provider `{provider}`: {message}")]
    Syntax { provider: String, message: String },
    /// A key has a value that is well-typed but not acceptable.
    #[error("provider `{provider}`: key `{key}`: {reason}")]
    Invalid {
        provider: String,
        key: &'static str,
        reason: String,
    },
    /// A configured secret cannot be decoded the way the provider requires.
    #[error("provider `{provider}`: secret: {reason}")]
    Secret { provider: String, reason: String },
    /// `sign` cannot build the request this provider would send.
    #[error("provider `{provider}`: cannot sign: {reason}")]
    Sign { provider: String, reason: String },
    /// The providers directory or a file in it cannot be read. (The cause is part of the
    /// message and deliberately not a `source()`, so that error chains print it once.)
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// An error in one file of a providers directory.
    #[error("{}: {cause}", path.display())]
    File {
        path: PathBuf,
        cause: Box<ProviderError>,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("signature header missing")]
    MissingSignature,
    #[error("signature header malformed")]
    MalformedSignature,
    /// A header verification reads (signature, timestamp, signed id) was sent more than once.
    #[error("a header verification reads was repeated")]
    RepeatedHeader,
    #[error("timestamp missing")]
    MissingTimestamp,
    #[error("timestamp malformed")]
    MalformedTimestamp,
    #[error("timestamp outside the tolerance")]
    TimestampOutOfTolerance,
    #[error("signature does not match any secret")]
    SignatureMismatch,
    #[error("token does not match")]
    TokenMismatch,
    /// The body is not a message in the provider's signed format (an SNS message, say).
    #[error("message malformed")]
    MalformedMessage,
    /// The signing certificate's URL is not on the allowed list; nothing was fetched.
    #[error("certificate URL not allowed")]
    CertificateUrlRefused,
    /// The signing certificate could not be fetched (network, timeout, status, size).
    #[error("certificate unavailable")]
    CertificateUnavailable,
    /// The fetched certificate is unusable: not PEM X.509, not RSA, or not valid now.
    #[error("certificate invalid")]
    CertificateInvalid,
    /// A verified AWS SNS message from a topic the source does not accept (HTTP 403).
    #[error("topic not allowed")]
    TopicNotAllowed,
}

impl Rejection {
    /// A stable short code for logs, metrics and error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingSignature => "signature_missing",
            Rejection::MalformedSignature => "signature_malformed",
            Rejection::RepeatedHeader => "header_repeated",
            Rejection::MissingTimestamp => "timestamp_missing",
            Rejection::MalformedTimestamp => "timestamp_malformed",
            Rejection::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            Rejection::SignatureMismatch => "signature_mismatch",
            Rejection::TokenMismatch => "token_mismatch",
            Rejection::MalformedMessage => "message_malformed",
            Rejection::CertificateUrlRefused => "certificate_url_refused",
            Rejection::CertificateUnavailable => "certificate_unavailable",
            Rejection::CertificateInvalid => "certificate_invalid",
            Rejection::TopicNotAllowed => "topic_not_allowed",
        }
    }
}

/// A rejected key found while compiling a provider file, before the provider name is attached.
#[derive(Debug)]
pub(super) struct Invalid {
    pub key: &'static str,
    pub reason: String,
}

impl Invalid {
    pub(super) fn new(key: &'static str, reason: impl Into<String>) -> Self {
        Invalid {
            key,
            reason: reason.into(),
        }
    }

    /// Fails with "not used by ..." when an option that does not apply is set.
    pub(super) fn reject_if(set: bool, key: &'static str, context: &str) -> Result<(), Invalid> {
        if set {
            return Err(Invalid::new(key, format!("not used {context}")));
        }
        Ok(())
    }

    pub(super) fn into_error(self, provider: &str) -> ProviderError {
        ProviderError::Invalid {
            provider: provider.to_string(),
            key: self.key,
            reason: self.reason,
        }
    }
}
