//! Handshakes answered with an HMAC of a token the provider sends, keyed with the source's
//! secret: Zoom's `endpoint.url_validation` and X's CRC check.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{Answer, Handshake, Refused, json_with_marker, query_param};
use crate::verify::mac::Digest;
use crate::verify::{Rejection, Request, SecretKey, SourceOptions};

/// The HMAC of `message` with the source key (`None` for a key that is not an HMAC key).
fn hmac(key: &SecretKey, message: &[u8]) -> Option<Digest> {
    let mut mac = key.keyed_mac()?;
    mac.update(message);
    Some(mac.finalize())
}

/// Zoom's check: `{"event": "endpoint.url_validation", "payload": {"plainToken": "…"}}`, answered
/// `{"plainToken": "…", "encryptedToken": "<hex HMAC-SHA256 of plainToken>"}`.
#[derive(Debug)]
pub(super) struct ZoomUrlValidation;

impl Handshake for ZoomUrlValidation {
    fn verified(&self, req: &Request<'_>, key: Option<&SecretKey>) -> Option<Answer> {
        let body = json_with_marker(req.body, b"endpoint.url_validation")?;
        if body.get("event")? != "endpoint.url_validation" {
            return None;
        }
        let plain = body.pointer("/payload/plainToken")?.as_str()?;
        let encrypted = hex::encode(hmac(key?, plain.as_bytes())?.as_bytes());
        let answer = json!({ "plainToken": plain, "encryptedToken": encrypted });
        Some(Answer::json("endpoint.url_validation", &answer))
    }
}

/// X's challenge-response check: `GET ?crc_token=…`, answered
/// `{"response_token": "sha256=<base64 HMAC-SHA256 of crc_token>"}` with the consumer secret
/// (the source's first secret: the request itself carries no signature to pick one by).
#[derive(Debug)]
pub(super) struct XCrc;

const CRC: &str = "crc";

impl Handshake for XCrc {
    fn get(
        &self,
        query: &str,
        _options: &SourceOptions,
        keys: &[SecretKey],
    ) -> Option<Result<Answer, Refused>> {
        let refused = |rejection| Refused {
            kind: CRC,
            rejection,
        };
        let Some(token) = query_param(query, "crc_token").filter(|token| !token.is_empty()) else {
            return Some(Err(refused(Rejection::MissingSignature)));
        };
        let Some(digest) = keys.first().and_then(|key| hmac(key, token.as_bytes())) else {
            return Some(Err(refused(Rejection::SignatureMismatch)));
        };
        let response = format!("sha256={}", STANDARD.encode(digest.as_bytes()));
        Some(Ok(Answer::json(
            CRC,
            &json!({ "response_token": response }),
        )))
    }
}
