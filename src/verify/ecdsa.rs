//! The `ecdsa-p256` scheme: ECDSA over P-256 with SHA-256 (SendGrid's Event Webhook), over a
//! signed-string template. The public key is the base64 DER SubjectPublicKeyInfo a dashboard
//! shows, or a bare 65-byte uncompressed point; the signature is DER (default) or raw `r || s`.

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, EcdsaSigningAlgorithm, VerificationAlgorithm,
};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};

use super::error::Invalid;
use super::identity::Location;
use super::key::{SecretFormat, SecretKey};
use super::schema::{EcdsaFormat, ProviderFile};
use super::scheme::{Scheme, SigningInput};
use super::sign::SignedRequest;
use super::signed_message::{SignedMessage, pkcs8_der};
use super::{Rejection, Request};

/// An uncompressed P-256 point: `0x04`, then x and y of 32 bytes each.
const POINT_LEN: usize = 65;
/// `r || s`, 32 bytes each.
const RAW_SIGNATURE_LEN: usize = 64;
/// The longest DER signature: SEQUENCE of two INTEGERs of up to 33 bytes.
const MAX_DER_SIGNATURE_LEN: usize = 72;

/// A compiled `scheme = "ecdsa-p256"` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EcdsaP256Scheme {
    secret: SecretFormat,
    message: SignedMessage,
    format: EcdsaFormat,
}

impl EcdsaP256Scheme {
    pub(super) fn compile(
        file: &ProviderFile,
        event_id: Option<&Location>,
    ) -> Result<EcdsaP256Scheme, Invalid> {
        Ok(EcdsaP256Scheme {
            secret: SecretFormat::new(&file.secret),
            message: SignedMessage::compile(
                file,
                event_id,
                "ecdsa-p256",
                &["signature.ecdsa_format"],
            )?,
            format: file.signature.ecdsa_format.unwrap_or_default(),
        })
    }

    fn algorithms(
        &self,
    ) -> (
        &'static dyn VerificationAlgorithm,
        &'static EcdsaSigningAlgorithm,
    ) {
        match self.format {
            EcdsaFormat::Der => (&ECDSA_P256_SHA256_ASN1, &ECDSA_P256_SHA256_ASN1_SIGNING),
            EcdsaFormat::Raw => (&ECDSA_P256_SHA256_FIXED, &ECDSA_P256_SHA256_FIXED_SIGNING),
        }
    }
}

/// The uncompressed point of a P-256 public key given as a DER SubjectPublicKeyInfo or as the
/// point itself.
fn public_point(key: &[u8]) -> Result<Vec<u8>, String> {
    const EXPECTED: &str = "expected a P-256 public key: a DER SubjectPublicKeyInfo (as SendGrid \
                            shows it) or a 65-byte uncompressed point";
    if key.len() == POINT_LEN {
        return uncompressed(key).ok_or_else(|| EXPECTED.to_string());
    }
    let (rest, spki) = SubjectPublicKeyInfo::from_der(key).map_err(|_| EXPECTED.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{EXPECTED}; found bytes after the key"));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.as_oid().ok());
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY || curve != Some(OID_EC_P256) {
        return Err(format!("{EXPECTED}; found a key of another type or curve"));
    }
    uncompressed(&spki.subject_public_key.data)
        .ok_or_else(|| format!("{EXPECTED}; the point is not uncompressed"))
}

fn uncompressed(point: &[u8]) -> Option<Vec<u8>> {
    (point.len() == POINT_LEN && point[0] == 0x04).then(|| point.to_vec())
}

fn plausible_der(signature: &[u8]) -> bool {
    (8..=MAX_DER_SIGNATURE_LEN).contains(&signature.len()) && signature[0] == 0x30
}

fn plausible_raw(signature: &[u8]) -> bool {
    signature.len() == RAW_SIGNATURE_LEN
}

impl Scheme for EcdsaP256Scheme {
    fn headers(&self) -> Vec<&str> {
        self.message.headers()
    }

    fn name(&self) -> &'static str {
        "ecdsa-p256"
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        let key = self.secret.bytes(secret)?;
        Ok(SecretKey::public_key(public_point(&key)?))
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
        let plausible = match self.format {
            EcdsaFormat::Der => plausible_der,
            EcdsaFormat::Raw => plausible_raw,
        };
        let signed = self.message.read(req, tolerance_secs, plausible)?;
        signed.matching_key(keys, self.algorithms().0)
    }

    fn signing_input(&self) -> SigningInput {
        SigningInput::PrivateKey
    }

    /// `secret` is a PKCS#8 PEM P-256 private key.
    fn sign(&self, secret: &str, now_unix: i64, request: &mut SignedRequest) -> Result<(), String> {
        let der = pkcs8_der(secret)?;
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(self.algorithms().1, &der, &rng)
            .map_err(|_| "the private key is not a P-256 PKCS#8 key".to_string())?;
        self.message.sign(now_unix, request, |message| {
            pair.sign(&rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_string())
        })
    }
}
