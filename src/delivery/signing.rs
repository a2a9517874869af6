//! Standard Webhooks signatures on outgoing deliveries, so a destination can verify them with
//! any Standard Webhooks library.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of Standard Webhooks secrets: `whsec_` then the key in base64.
const PREFIX: &str = "whsec_";

/// Why a destination's `signing_secret` cannot be used. Never contains the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningKeyError {
    #[error("signing secret is empty")]
    Empty,
    #[error("signing secret starts with whsec_ but the rest is not base64")]
    NotBase64,
}

/// A destination's signing key, decoded once and held as a keyed HMAC-SHA256 state. It is
/// never displayed or logged.
#[derive(Clone)]
pub struct SigningKey {
    mac: Hmac<Sha256>,
}

impl SigningKey {
    /// Decodes a configured secret. `whsec_<base64>` is the Standard Webhooks form and must
    /// decode. Without the prefix, a secret that is valid base64 is decoded (what Standard
    /// Webhooks libraries do with an unprefixed secret, so both sides agree); any other string
    /// is used as its raw UTF-8 bytes.
    pub fn parse(secret: &str) -> Result<SigningKey, SigningKeyError> {
        let key = match secret.strip_prefix(PREFIX) {
            Some(encoded) => STANDARD
                .decode(encoded)
                .map_err(|_| SigningKeyError::NotBase64)?,
            None => STANDARD
                .decode(secret)
                .unwrap_or_else(|_| secret.as_bytes().to_vec()),
        };
        if key.is_empty() {
            return Err(SigningKeyError::Empty);
        }
        let mac = Hmac::new_from_slice(&key).expect("HMAC accepts keys of any length");
        Ok(SigningKey { mac })
    }

    /// The `webhook-signature` value for message `id` sent at `timestamp` (unix seconds):
    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn spec_signature_with(secret: &str) -> String {
        let key = SigningKey::parse(secret).expect("valid secret");
        key.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    }

    #[test]
    fn signs_the_published_standard_webhooks_vector() {
        assert_eq!(spec_signature_with(SPEC_SECRET), SPEC_SIGNATURE);
    }

    #[test]
    fn an_unprefixed_base64_secret_is_decoded_like_the_prefixed_one() {
        let unprefixed = SPEC_SECRET.trim_start_matches(PREFIX);
        assert_eq!(spec_signature_with(unprefixed), SPEC_SIGNATURE);
    }

    #[test]
    fn a_secret_that_is_not_base64_is_used_as_raw_bytes() {
        let expected = {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"not base64!").expect("any length");
            mac.update(b"msg_1.5.body");
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        };
        let key = SigningKey::parse("not base64!").expect("raw secret");
        assert_eq!(key.sign("msg_1", 5, b"body"), expected);
    }

    #[test]
    fn unusable_secrets_are_refused_without_echoing_them() {
        assert_eq!(SigningKey::parse("").unwrap_err(), SigningKeyError::Empty);
        assert_eq!(
            SigningKey::parse("whsec_").unwrap_err(),
            SigningKeyError::Empty
        );
        let err = SigningKey::parse("whsec_s3cr3t!!").unwrap_err();
        assert_eq!(err, SigningKeyError::NotBase64);
        assert!(!err.to_string().contains("s3cr3t"));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = SigningKey::parse(SPEC_SECRET).expect("valid secret");
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }
}
