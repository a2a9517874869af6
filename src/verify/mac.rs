//! Keyed HMAC state, digests and the text encodings of signatures and secrets.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// Longest digest produced (SHA-512).
const MAX_DIGEST: usize = 64;
/// Room for decoding a signature: a base64 one of `MAX_DIGEST` bytes (the decoder wants a little
/// slack), and the longest ECDSA P-256 DER signature (72 bytes).
const DECODE_BUF: usize = MAX_DIGEST + 8;

/// The hash function under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// How a signature is written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Encoding {
    Hex,
    Base64,
}

impl Encoding {
    /// Decodes `text` into `out`, returning the decoded length; `None` when it is not valid.
    pub(super) fn decode(self, text: &[u8], out: &mut [u8; DECODE_BUF]) -> Option<usize> {
        match self {
            Encoding::Hex => {
                let len = text.len() / 2;
                if !text.len().is_multiple_of(2) || len > DECODE_BUF {
                    return None;
                }
                hex::decode_to_slice(text, &mut out[..len]).ok()?;
                Some(len)
            }
            Encoding::Base64 => {
                if text.len() > DECODE_BUF / 3 * 4 {
                    return None;
                }
                STANDARD.decode_slice(text, &mut out[..]).ok()
            }
        }
    }

    /// Encodes `bytes` as text.
    pub(super) fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex::encode(bytes),
            Encoding::Base64 => STANDARD.encode(bytes),
        }
    }
}

/// A signature as found in a header, decoded onto the stack.
pub(super) struct DecodedSignature {
    buf: [u8; DECODE_BUF],
    len: usize,
}

impl DecodedSignature {
    /// Decodes `text`; `None` when it is not valid in `encoding`.
    pub(super) fn decode(encoding: Encoding, text: &[u8]) -> Option<Self> {
        if text.is_empty() {
            return None;
        }
        let mut buf = [0; DECODE_BUF];
        let len = encoding.decode(text, &mut buf)?;
        Some(DecodedSignature { buf, len })
    }

    /// The decoded bytes (an asymmetric signature is checked by its verifier, not compared).
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Constant-time comparison with a computed digest (lengths are not secret).
    pub(super) fn matches(&self, digest: &Digest) -> bool {
        self.buf[..self.len].ct_eq(digest.as_bytes()).into()
    }
}

/// A finished MAC, kept on the stack.
pub(super) struct Digest {
    buf: [u8; MAX_DIGEST],
    len: usize,
}

impl Digest {
    fn new(bytes: &[u8]) -> Self {
        let mut buf = [0; MAX_DIGEST];
        buf[..bytes.len()].copy_from_slice(bytes);
        Digest {
            buf,
            len: bytes.len(),
        }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// An HMAC already keyed with a secret; clone it for each message.
#[derive(Clone)]
pub(super) enum KeyedMac {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl KeyedMac {
    pub(super) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        // HMAC accepts keys of any length, so these constructors cannot fail.
        const ANY_LENGTH: &str = "HMAC accepts keys of any length";
        match algorithm {
            Algorithm::Sha1 => KeyedMac::Sha1(Mac::new_from_slice(key).expect(ANY_LENGTH)),
            Algorithm::Sha256 => KeyedMac::Sha256(Mac::new_from_slice(key).expect(ANY_LENGTH)),
            Algorithm::Sha512 => KeyedMac::Sha512(Mac::new_from_slice(key).expect(ANY_LENGTH)),
        }
    }

    pub(super) fn update(&mut self, data: &[u8]) {
        match self {
            KeyedMac::Sha1(mac) => mac.update(data),
            KeyedMac::Sha256(mac) => mac.update(data),
            KeyedMac::Sha512(mac) => mac.update(data),
        }
    }

    pub(super) fn finalize(self) -> Digest {
        match self {
            KeyedMac::Sha1(mac) => Digest::new(&mac.finalize().into_bytes()),
            KeyedMac::Sha256(mac) => Digest::new(&mac.finalize().into_bytes()),
            KeyedMac::Sha512(mac) => Digest::new(&mac.finalize().into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac_hex(algorithm: Algorithm, key: &str, message: &[u8]) -> String {
        let mut mac = KeyedMac::new(algorithm, key.as_bytes());
        mac.update(message);
        hex::encode(mac.finalize().as_bytes())
    }

    #[test]
    fn algorithms_match_python_hmac() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'k',b'abc',hashlib.sha512).hexdigest())"
        assert_eq!(
            hmac_hex(Algorithm::Sha512, "k", b"abc"),
            "bb9ec7701f7de8a362d775b9bfcb61a474bf8bf69d5dbee0689a4b284bc59a54ffd1cfdc05151759afd97ffd1a255b3849ce775ea4be799a65e6a19ac97e2ade"
        );
        assert_eq!(
            hmac_hex(
                Algorithm::Sha256,
                "It's a Secret to Everybody",
                b"Hello, World!"
            ),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn decode_rejects_bad_text_without_panicking() {
        let long = "a".repeat(10_000);
        for (encoding, text) in [
            (Encoding::Hex, "abc"),
            (Encoding::Hex, "zz"),
            (Encoding::Hex, long.as_str()),
            (Encoding::Base64, "!!!!"),
            (Encoding::Base64, long.as_str()),
        ] {
            assert!(DecodedSignature::decode(encoding, text.as_bytes()).is_none());
        }
        let b64_512 = STANDARD.encode([7u8; 64]);
        assert_eq!(
            DecodedSignature::decode(Encoding::Base64, b64_512.as_bytes())
                .unwrap()
                .len,
            64
        );
    }
}
