//! `scheme = "jwt"`: the provider sends a JWT signed with the shared secret (Vonage:
//! `Authorization: Bearer <jwt>`, HS256 with the signature secret). The algorithm is pinned by the
//! provider file, so a token naming another one (`none`, RS256) is refused; the body is bound by a
//! claim holding its SHA-256, and the issue time by a claim checked against the tolerance.

use std::collections::HashSet;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::error::Invalid;
use super::key::{SecretFormat, SecretKey};
use super::schema::{HeaderFormat, ProviderFile};
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::signature_header::{Layout, header_value};
use super::timestamp::{self, TimestampFormat};
use super::{Rejection, Request};

const CONTEXT: &str = "with scheme = \"jwt\"";
/// Longer tokens are refused unread; a provider's webhook token is a few hundred bytes.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

type Claims = Map<String, Value>;

/// The issue-time claim and its tolerance.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IssuedAt {
    claim: String,
    tolerance_secs: u64,
}

/// A compiled `jwt` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JwtScheme {
    secret: SecretFormat,
    header: String,
    layout: Layout,
    algorithm: JwtAlgorithm,
    body_hash_claim: String,
    issued_at: Option<IssuedAt>,
}

impl JwtScheme {
    pub(super) fn compile(file: &ProviderFile) -> Result<JwtScheme, Invalid> {
        let spec = file
            .jwt
            .as_ref()
            .ok_or_else(|| Invalid::new("jwt", format!("required {CONTEXT}")))?;
        if !matches!(
            spec.algorithm,
            JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512
        ) {
            return Err(Invalid::new(
                "jwt.algorithm",
                "must be HS256, HS384 or HS512: the secret is shared",
            ));
        }
        if spec.body_hash_claim.is_empty() {
            return Err(Invalid::new("jwt.body_hash_claim", "must not be empty"));
        }
        for (key, set) in [
            ("algorithm", file.algorithm.is_some()),
            ("signed", file.signed.is_some()),
            ("signature.encoding", file.signature.encoding.is_some()),
            (
                "signature.format",
                file.signature.format != HeaderFormat::Value,
            ),
        ] {
            Invalid::reject_if(set, key, CONTEXT)?;
        }
        let issued_at = match &file.timestamp {
            None => None,
            Some(stamp) => {
                Invalid::reject_if(stamp.header.is_some(), "timestamp.header", CONTEXT)?;
                Invalid::reject_if(stamp.pointer.is_some(), "timestamp.pointer", CONTEXT)?;
                Invalid::reject_if(
                    stamp.format != TimestampFormat::Unix,
                    "timestamp.format",
                    "with scheme = \"jwt\" (JWT times are unix seconds)",
                )?;
                let claim = stamp.key.clone().filter(|claim| !claim.is_empty());
                Some(IssuedAt {
                    claim: claim.ok_or_else(|| {
                        Invalid::new("timestamp.key", format!("required {CONTEXT}: the claim"))
                    })?,
                    tolerance_secs: stamp.tolerance_secs,
                })
            }
        };
        file.signature.reject_unused("jwt", &[])?;
        Ok(JwtScheme {
            secret: SecretFormat::new(&file.secret),
            header: file.signature.header("jwt")?,
            layout: Layout::compile(&file.signature)?,
            algorithm: spec.algorithm,
            body_hash_claim: spec.body_hash_claim.clone(),
            issued_at,
        })
    }

    /// Only the pinned algorithm; no registered claim is required or checked by the library
    /// (the issue time is checked here, with the source's tolerance).
    fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.required_spec_claims = HashSet::new();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation
    }

    /// The token from the header: missing, or malformed unless it has a JWT's shape and size.
    fn token<'a>(&'a self, req: &Request<'a>) -> Result<&'a str, Rejection> {
        let value = header_value(req.headers, &self.header)?;
        let token = self
            .layout
            .signatures(value)
            .next()
            .and_then(|token| std::str::from_utf8(token).ok())
            .ok_or(Rejection::MalformedSignature)?;
        if token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
            return Err(Rejection::MalformedSignature);
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| Rejection::MalformedSignature)?;
        if header.alg != self.algorithm {
            return Err(Rejection::SignatureMismatch);
        }
        Ok(token)
    }

    fn check_claims(
        &self,
        claims: &Claims,
        req: &Request<'_>,
        tolerance_secs: Option<u64>,
    ) -> Result<(), Rejection> {
        if let Some(rule) = &self.issued_at {
            let issued = match claims.get(&rule.claim) {
                None | Some(Value::Null) => return Err(Rejection::MissingTimestamp),
                Some(value) => value.as_i64().ok_or(Rejection::MalformedTimestamp)?,
            };
            timestamp::check(
                issued,
                req.now_unix,
                tolerance_secs.unwrap_or(rule.tolerance_secs),
            )?;
        }
        let mut claimed = [0u8; 32];
        let bound = claims
            .get(&self.body_hash_claim)
            .and_then(Value::as_str)
            .is_some_and(|hash| hex::decode_to_slice(hash, &mut claimed).is_ok());
        if !bound || !bool::from(claimed.ct_eq(Sha256::digest(req.body).as_slice())) {
            return Err(Rejection::SignatureMismatch);
        }
        Ok(())
    }
}

impl Scheme for JwtScheme {
    fn name(&self) -> &'static str {
        "jwt"
    }

    fn headers(&self) -> Vec<&str> {
        vec![&self.header]
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        Ok(SecretKey::shared(self.secret.bytes(secret)?))
    }

    fn default_tolerance_secs(&self) -> Option<u64> {
        self.issued_at.as_ref().map(|rule| rule.tolerance_secs)
    }

    /// The token's shape and algorithm first, then its signature with each key, then (trusted
    /// only once signed) the issue time and the body hash.
    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let token = self.token(req)?;
        let validation = self.validation();
        for (index, key) in keys.iter().enumerate() {
            let Some(secret) = key.shared_bytes() else {
                continue;
            };
            let decoded = jsonwebtoken::decode::<Claims>(
                token,
                &DecodingKey::from_secret(secret),
                &validation,
            );
            match decoded {
                Ok(data) => {
                    return self
                        .check_claims(&data.claims, req, tolerance_secs)
                        .map(|()| index);
                }
                Err(error) if *error.kind() == ErrorKind::InvalidSignature => continue,
                Err(_) => return Err(Rejection::MalformedSignature),
            }
        }
        Err(Rejection::SignatureMismatch)
    }

    fn sign(&self, secret: &str, now_unix: i64, request: &mut SignedRequest) -> Result<(), String> {
        let key = self.secret.bytes(secret)?;
        let mut claims = Claims::new();
        if let Some(rule) = &self.issued_at {
            claims.insert(rule.claim.clone(), now_unix.into());
        }
        claims.insert(
            self.body_hash_claim.clone(),
            hex::encode(Sha256::digest(&request.body)).into(),
        );
        let token = jsonwebtoken::encode(
            &Header::new(self.algorithm),
            &claims,
            &EncodingKey::from_secret(&key),
        )
        .map_err(|error| error.to_string())?;
        let value = self.layout.format(None, &token);
        request.headers.push((self.header.clone(), value));
        Ok(())
    }
}
