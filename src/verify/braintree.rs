//! Braintree's built-in scheme. Braintree posts a form with `bt_payload` (the notification XML,
//! base64 with line breaks) and `bt_signature`, `public_key|hex` pairs joined by `&`; the hex is
//! HMAC-SHA1 of `bt_payload` as sent, keyed with the SHA-1 digest of the private key, and the
//! pair whose public key is the source's is checked. As Braintree's SDKs do, the payload is also
//! tried with a trailing newline (a sender or proxy may strip it), and a payload with characters
//! outside base64 and newlines is refused before any MAC. The XML is never parsed.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest as _, Sha1};
use url::form_urlencoded;

use super::error::Invalid;
use super::form::form_fields;
use super::key::SecretKey;
use super::mac::{Algorithm, DecodedSignature, Digest, Encoding, KeyedMac};
use super::schema::ProviderFile;
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::{Rejection, Request};

const FORM: &str = "application/x-www-form-urlencoded";
const SIGNATURE_FIELD: &str = "bt_signature";
const PAYLOAD_FIELD: &str = "bt_payload";

/// The compiled Braintree scheme: nothing is configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BraintreeScheme;

impl BraintreeScheme {
    /// Refuses every scheme-specific key: Braintree fixes them all.
    pub(super) fn compile(file: &ProviderFile) -> Result<BraintreeScheme, Invalid> {
        file.only_keys("braintree", &[])?;
        Ok(BraintreeScheme)
    }
}

/// A configured `public_key:private_key`, split.
struct KeyPair<'k> {
    public: &'k str,
    private: &'k str,
}

impl<'k> KeyPair<'k> {
    fn split(secret: &'k str) -> Option<KeyPair<'k>> {
        let (public, private) = secret.split_once(':')?;
        let usable = |text: &str| !text.is_empty() && !text.contains(['|', '&', ':']);
        (usable(public) && usable(private)).then_some(KeyPair { public, private })
    }

    /// HMAC-SHA1 of `payload` (then `suffix`) keyed with SHA-1 of the private key.
    fn digest(&self, payload: &[u8], suffix: &[u8]) -> Digest {
        let mut mac = KeyedMac::new(Algorithm::Sha1, &Sha1::digest(self.private.as_bytes()));
        mac.update(payload);
        mac.update(suffix);
        mac.finalize()
    }
}

/// `bt_signature` and `bt_payload` of a form body, each present exactly once.
struct Notification<'b> {
    signature: Cow<'b, str>,
    payload: Cow<'b, str>,
}

impl<'b> Notification<'b> {
    fn parse(body: &'b [u8]) -> Result<Notification<'b>, Rejection> {
        let (mut signature, mut payload) = (None, None);
        for (name, value) in form_fields(body) {
            let slot = match &*name {
                SIGNATURE_FIELD => &mut signature,
                PAYLOAD_FIELD => &mut payload,
                _ => continue,
            };
            // Two of a field could be read differently by the consumer than here.
            if slot.replace(value).is_some() {
                return Err(Rejection::MalformedMessage);
            }
        }
        let signature = signature
            .filter(|text| !text.trim().is_empty())
            .ok_or(Rejection::MissingSignature)?;
        let payload = payload
            .filter(|text| !text.is_empty() && text.bytes().all(is_payload_byte))
            .ok_or(Rejection::MalformedMessage)?;
        Ok(Notification { signature, payload })
    }

    /// The decodable `(public_key, signature)` pairs of `bt_signature`.
    fn pairs(&self) -> impl Iterator<Item = (&str, DecodedSignature)> {
        self.signature.split('&').filter_map(|pair| {
            let (public, hex) = pair.split_once('|')?;
            Some((
                public,
                DecodedSignature::decode(Encoding::Hex, hex.as_bytes())?,
            ))
        })
    }
}

/// What Braintree's SDKs accept in a payload: base64 and line breaks.
fn is_payload_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=' | b'\n')
}

impl Scheme for BraintreeScheme {
    fn name(&self) -> &'static str {
        "braintree"
    }

    fn headers(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The secret is the API key pair `public_key:private_key`, kept whole: the public key picks
    /// the signature, the private key's SHA-1 keys the MAC.
    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        KeyPair::split(secret)
            .map(|_| SecretKey::shared(secret.as_bytes()))
            .ok_or_else(|| {
                "expected public_key:private_key (Braintree's API key pair, both non-empty)"
                    .to_string()
            })
    }

    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        _tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let notification = Notification::parse(req.body)?;
        if notification.pairs().next().is_none() {
            return Err(Rejection::MalformedSignature);
        }
        let payload = notification.payload.as_bytes();
        let matches = |key: &SecretKey| {
            let Some(pair) = key
                .shared_bytes()
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .and_then(KeyPair::split)
            else {
                return false;
            };
            let (plain, newline) = (pair.digest(payload, b""), pair.digest(payload, b"\n"));
            notification
                .pairs()
                .filter(|(public, _)| *public == pair.public)
                .any(|(_, signature)| signature.matches(&plain) | signature.matches(&newline))
        };
        keys.iter()
            .position(matches)
            .ok_or(Rejection::SignatureMismatch)
    }

    fn content_type(&self, _url: &str) -> &'static str {
        FORM
    }

    /// Treats the body as the notification XML and replaces it with the form Braintree posts:
    /// the XML in base64 (one line and a newline, as Braintree's Node SDK writes it) and its
    /// `public_key|signature`.
    fn sign(
        &self,
        secret: &str,
        _now_unix: i64,
        request: &mut SignedRequest,
    ) -> Result<(), String> {
        self.decode_key(secret)?;
        let pair = KeyPair::split(secret).ok_or("expected public_key:private_key")?;
        let payload = format!("{}\n", STANDARD.encode(&request.body));
        let signature = hex::encode(pair.digest(payload.as_bytes(), b"").as_bytes());
        request.body = form_urlencoded::Serializer::new(String::new())
            .append_pair(SIGNATURE_FIELD, &format!("{}|{signature}", pair.public))
            .append_pair(PAYLOAD_FIELD, &payload)
            .finish()
            .into_bytes();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_is_braintrees_published_challenge_answer() {
        // braintree_python tests/unit/test_webhooks.py
        // `test_verify_returns_a_correct_challenge_response` (and braintree_node's
        // webhook_notification_gateway_spec.js): with the SDK's test keys, the challenge
        // "20f9f8ed05f77439fe955c977e4c8a53" is answered
        // "integration_public_key|d9b899556c966b3f06945ec21311865d35df3ce4", the same
        // HMAC-SHA1 keyed with SHA-1 of the private key that signs bt_payload.
        let pair = KeyPair::split("integration_public_key:integration_private_key").unwrap();
        let digest = pair.digest(b"20f9f8ed05f77439fe955c977e4c8a53", b"");
        assert_eq!(
            hex::encode(digest.as_bytes()),
            "d9b899556c966b3f06945ec21311865d35df3ce4"
        );
    }

    #[test]
    fn key_pairs_need_both_halves() {
        for bad in [
            "",
            ":",
            "public:",
            ":private",
            "public",
            "pub|lic:private",
            "a:b:c",
        ] {
            assert!(KeyPair::split(bad).is_none(), "{bad:?}");
        }
        let pair = KeyPair::split("public:private").unwrap();
        assert_eq!((pair.public, pair.private), ("public", "private"));
    }
}
