//! A provider's signing certificate (AWS SNS, PayPal): the RSA public key and validity period
//! of a PEM X.509 certificate, and checking a PKCS #1 v1.5 signature with it.

use ring::signature::{
    RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
};
use x509_parser::pem::parse_x509_pem;
use x509_parser::public_key::PublicKey;

use super::Rejection;

/// The digest a provider signs with (RSA PKCS #1 v1.5 either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RsaHash {
    /// SHA1withRSA: AWS SNS `SignatureVersion` 1.
    Sha1,
    /// SHA256withRSA: AWS SNS `SignatureVersion` 2, PayPal.
    Sha256,
}

/// RSA keys below this size are refused; ring would not verify with them either.
const MIN_RSA_BITS: usize = 2048;

/// A certificate fetched for one URL, reduced to what verification needs. The URL is kept so
/// that a certificate is only ever used for the request that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    url: String,
    /// The DER `RSAPublicKey`, the form ring verifies with.
    public_key: Box<[u8]>,
    not_before: i64,
    not_after: i64,
}

impl SigningCertificate {
    /// The first certificate of the PEM text served at `url`; the error says what is wrong
    /// with it (for the log).
    pub(super) fn from_pem(url: &str, pem: &[u8]) -> Result<SigningCertificate, String> {
        let (_, pem) = parse_x509_pem(pem).map_err(|_| "not a PEM document".to_string())?;
        if pem.label != "CERTIFICATE" {
            return Err(format!("a PEM {:?}, not a CERTIFICATE", pem.label));
        }
        let certificate = pem
            .parse_x509()
            .map_err(|error| format!("not an X.509 certificate: {error}"))?;
        let spki = certificate.public_key();
        let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
            return Err("the certificate's key is not an RSA key".to_string());
        };
        let significant = rsa.modulus.iter().skip_while(|byte| **byte == 0).count();
        if significant * 8 < MIN_RSA_BITS {
            return Err(format!(
                "an RSA key of {} bits; at least {MIN_RSA_BITS} are needed",
                significant * 8
            ));
        }
        let validity = certificate.validity();
        Ok(SigningCertificate {
            url: url.to_string(),
            public_key: spki.subject_public_key.data.to_vec().into_boxed_slice(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        })
    }

    /// The URL this certificate was fetched from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Checks `signature` over `message`. The certificate must have come from `url` (else
    /// `certificate_unavailable`: it was not prepared for this request) and be valid at
    /// `now_unix` (else `certificate_invalid`).
    pub(super) fn verify(
        &self,
        url: &str,
        hash: RsaHash,
        message: &[u8],
        signature: &[u8],
        now_unix: i64,
    ) -> Result<(), Rejection> {
        if self.url != url {
            return Err(Rejection::CertificateUnavailable);
        }
        if !(self.not_before..=self.not_after).contains(&now_unix) {
            return Err(Rejection::CertificateInvalid);
        }
        let algorithm = match hash {
            RsaHash::Sha1 => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            RsaHash::Sha256 => &RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(message, signature)
            .map_err(|_| Rejection::SignatureMismatch)
    }
}
