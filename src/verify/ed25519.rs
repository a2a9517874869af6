//! The `ed25519` scheme: an Ed25519 signature (RFC 8032) over a signed-string template, checked
//! with the provider's public key as its dashboard shows it (Discord: hex, Telnyx: base64).

use ring::signature::{ED25519, Ed25519KeyPair};

use super::error::Invalid;
use super::identity::Location;
use super::key::{SecretFormat, SecretKey};
use super::schema::ProviderFile;
use super::scheme::{Scheme, SigningInput};
use super::sign::SignedRequest;
use super::signed_message::{SignedMessage, pkcs8_der};
use super::{Rejection, Request};

const PUBLIC_KEY_LEN: usize = 32;
const SIGNATURE_LEN: usize = 64;

/// A compiled `scheme = "ed25519"` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ed25519Scheme {
    secret: SecretFormat,
    message: SignedMessage,
}

impl Ed25519Scheme {
    pub(super) fn compile(
        file: &ProviderFile,
        event_id: Option<&Location>,
    ) -> Result<Ed25519Scheme, Invalid> {
        Ok(Ed25519Scheme {
            secret: SecretFormat::new(&file.secret),
            message: SignedMessage::compile(file, event_id, "ed25519", &[])?,
        })
    }
}

impl Scheme for Ed25519Scheme {
    fn headers(&self) -> Vec<&str> {
        self.message.headers()
    }

    fn name(&self) -> &'static str {
        "ed25519"
    }

    /// The 32-byte public key; any other length is refused here, at startup, rather than
    /// failing every request later.
    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        let key = self.secret.bytes(secret)?;
        if key.len() != PUBLIC_KEY_LEN {
            return Err(format!(
                "expected a {PUBLIC_KEY_LEN}-byte Ed25519 public key, got {} bytes",
                key.len()
            ));
        }
        Ok(SecretKey::public_key(key))
    }

    fn default_tolerance_secs(&self) -> Option<u64> {
        self.message.tolerance_secs()
    }

    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let signed = self.message.read(req, tolerance_secs, |signature| {
            signature.len() == SIGNATURE_LEN
        })?;
        signed.matching_key(keys, &ED25519)
    }

    fn signing_input(&self) -> SigningInput {
        SigningInput::PrivateKey
    }

    /// `secret` is a PKCS#8 PEM private key (v1 as OpenSSL writes it, or v2 with the public key).
    fn sign(&self, secret: &str, now_unix: i64, request: &mut SignedRequest) -> Result<(), String> {
        let der = pkcs8_der(secret)?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|_| "the private key is not an Ed25519 PKCS#8 key".to_string())?;
        self.message.sign(now_unix, request, |message| {
            Ok(pair.sign(message).as_ref().to_vec())
        })
    }
}
