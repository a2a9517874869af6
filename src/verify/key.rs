//! Configured secrets: how the text an operator pastes becomes key bytes, and the decoded key a
//! scheme verifies with (an HMAC state, a provider's public key, or a shared token).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::mac::{Algorithm, KeyedMac};
use super::schema::SecretSpec;

/// How a configured secret string becomes key bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SecretEncoding {
    /// The UTF-8 bytes of the string, prefix included.
    #[default]
    Raw,
    /// Standard base64, after an optional prefix such as `whsec_`.
    Base64,
    /// Hexadecimal (either case), after an optional prefix: Discord's public keys, Adyen's HMAC keys.
    Hex,
}

/// The `[secret]` table's decoding rule: encoding and optional prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SecretFormat {
    encoding: SecretEncoding,
    prefix: Option<String>,
}

impl SecretFormat {
    pub(super) fn new(spec: &SecretSpec) -> SecretFormat {
        SecretFormat {
            encoding: spec.encoding,
            prefix: spec.prefix.clone(),
        }
    }

    /// The key bytes of `secret`; the error says what was expected and never contains it.
    pub(super) fn bytes(&self, secret: &str) -> Result<Vec<u8>, String> {
        if secret.is_empty() {
            return Err("secret is empty".to_string());
        }
        let stripped = || {
            self.prefix
                .as_deref()
                .and_then(|p| secret.strip_prefix(p))
                .unwrap_or(secret)
                .trim()
        };
        let expected = |what: &str| match &self.prefix {
            Some(p) => format!("expected a {p} prefixed {what} secret"),
            None => format!("expected a {what} secret"),
        };
        match self.encoding {
            SecretEncoding::Raw => Ok(secret.as_bytes().to_vec()),
            SecretEncoding::Base64 => STANDARD.decode(stripped()).map_err(|_| expected("base64")),
            SecretEncoding::Hex => hex::decode(stripped()).map_err(|_| expected("hex")),
        }
    }
}

/// What a decoded secret holds; which one depends on the provider's scheme.
#[derive(Clone)]
enum Material {
    /// A keyed HMAC state, copied out for each message (boxed: a SHA-512 state is 400 bytes).
    Mac(Box<KeyedMac>),
    /// A provider's public key, in the form the scheme's verifier takes.
    PublicKey(Box<[u8]>),
    /// A shared value compared in constant time: a token, `user:password`, or a key the scheme
    /// derives its MAC key from per message.
    Shared(Box<[u8]>),
}

/// A secret decoded once at startup by the provider's scheme. It is never displayed or logged.
#[derive(Clone)]
pub struct SecretKey {
    material: Material,
}

impl SecretKey {
    pub(super) fn mac(algorithm: Algorithm, key: &[u8]) -> SecretKey {
        SecretKey {
            material: Material::Mac(Box::new(KeyedMac::new(algorithm, key))),
        }
    }

    pub(super) fn public_key(key: impl Into<Box<[u8]>>) -> SecretKey {
        SecretKey {
            material: Material::PublicKey(key.into()),
        }
    }

    pub(super) fn shared(value: impl Into<Box<[u8]>>) -> SecretKey {
        SecretKey {
            material: Material::Shared(value.into()),
        }
    }

    /// A fresh copy of the keyed HMAC state, ready for one message; `None` for other keys.
    pub(super) fn keyed_mac(&self) -> Option<KeyedMac> {
        match &self.material {
            Material::Mac(mac) => Some(KeyedMac::clone(mac)),
            _ => None,
        }
    }

    /// The public key bytes; `None` for other keys.
    pub(super) fn public_key_bytes(&self) -> Option<&[u8]> {
        match &self.material {
            Material::PublicKey(key) => Some(key),
            _ => None,
        }
    }

    /// The shared value; `None` for other keys.
    pub(super) fn shared_bytes(&self) -> Option<&[u8]> {
        match &self.material {
            Material::Shared(value) => Some(value),
            _ => None,
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(encoding: SecretEncoding, prefix: Option<&str>) -> SecretFormat {
        SecretFormat {
            encoding,
            prefix: prefix.map(str::to_string),
        }
    }

    #[test]
    fn secrets_decode_by_encoding_and_prefix() {
        let whsec = format(SecretEncoding::Base64, Some("whsec_"));
        assert_eq!(whsec.bytes("whsec_AAEC").unwrap(), [0, 1, 2]);
        assert_eq!(whsec.bytes("AAEC").unwrap(), [0, 1, 2]);
        assert_eq!(
            whsec.bytes("whsec_not base64!").unwrap_err(),
            "expected a whsec_ prefixed base64 secret"
        );
        let hex = format(SecretEncoding::Hex, None);
        assert_eq!(hex.bytes("00ff").unwrap(), [0, 255]);
        assert_eq!(hex.bytes("0g").unwrap_err(), "expected a hex secret");
        let raw = format(SecretEncoding::Raw, None);
        assert_eq!(raw.bytes("s3cr3t").unwrap(), b"s3cr3t");
        assert_eq!(raw.bytes("").unwrap_err(), "secret is empty");
    }

    #[test]
    fn keys_are_redacted_and_typed() {
        let key = SecretKey::shared(b"token".to_vec());
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
        assert!(key.keyed_mac().is_none() && key.public_key_bytes().is_none());
        assert_eq!(key.shared_bytes(), Some(&b"token"[..]));
    }
}
