//! The `basic-auth` scheme: `Authorization: Basic base64(user:password)` (Postmark, and any
//! sender that puts credentials in the webhook URL). A source's secrets are `user:password`;
//! the decoded credentials are compared whole, so a refusal does not tell which part was wrong.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::Invalid;
use super::key::SecretKey;
use super::schema::ProviderFile;
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::signature_header::header_value;
use super::{Rejection, Request, shared_secret};

const BASIC: &[u8] = b"basic ";
/// Longer credentials than this are refused unread (browsers and servers cap headers at 8 KB).
const MAX_ENCODED: usize = 4096;

/// A compiled `scheme = "basic-auth"` provider: only the header name is configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BasicAuthScheme {
    header: String,
}

impl BasicAuthScheme {
    pub(super) fn compile(file: &ProviderFile) -> Result<BasicAuthScheme, Invalid> {
        file.only_keys("basic-auth", &["secret", "signature.header"])?;
        shared_secret::reject_encoded(file, "basic-auth")?;
        Ok(BasicAuthScheme {
            header: file.signature.header("basic-auth")?,
        })
    }
}

/// The decoded `user:password` of a `Basic` credential; `None` when it is not one.
fn credentials(value: &[u8]) -> Option<Vec<u8>> {
    let scheme = value.get(..BASIC.len())?;
    if !scheme.eq_ignore_ascii_case(BASIC) {
        return None;
    }
    let encoded = value[BASIC.len()..].trim_ascii();
    if encoded.len() > MAX_ENCODED {
        return None;
    }
    let decoded = STANDARD.decode(encoded).ok()?;
    decoded.contains(&b':').then_some(decoded)
}

impl Scheme for BasicAuthScheme {
    fn headers(&self) -> Vec<&str> {
        vec![&self.header]
    }

    fn name(&self) -> &'static str {
        "basic-auth"
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        if !secret.contains(':') {
            return Err("expected user:password".to_string());
        }
        Ok(shared_secret::key(secret.as_bytes()))
    }

    /// No header is `signature_missing`; anything but `Basic` and base64 of `user:password`,
    /// `signature_malformed`; credentials matching no secret, `token_mismatch`.
    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        _tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let value = header_value(req.headers, &self.header)?;
        let sent = credentials(value).ok_or(Rejection::MalformedSignature)?;
        shared_secret::matching(keys, &sent).ok_or(Rejection::TokenMismatch)
    }

    fn sign(
        &self,
        secret: &str,
        _now_unix: i64,
        request: &mut SignedRequest,
    ) -> Result<(), String> {
        self.decode_key(secret)?;
        let value = format!("Basic {}", STANDARD.encode(secret));
        request.headers.push((self.header.clone(), value));
        Ok(())
    }
}
