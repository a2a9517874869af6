//! The signing-scheme trait: every built-in scheme (`scheme = "…"` in a provider file) is one
//! module implementing it, and [`compile`] is the only place that knows them all by name.

use std::fmt;
use std::sync::Arc;

use url::Url;

use super::aws_sns::AwsSnsScheme;
use super::basic_auth::BasicAuthScheme;
use super::body_signature::BodySignatureScheme;
use super::braintree::BraintreeScheme;
use super::ecdsa::EcdsaP256Scheme;
use super::ed25519::Ed25519Scheme;
use super::error::Invalid;
use super::hmac_scheme::HmacScheme;
use super::identity::Location;
use super::jwt::JwtScheme;
use super::paypal::PaypalScheme;
use super::schema::{ProviderFile, SchemeName};
use super::sign::SignedRequest;
use super::token::TokenScheme;
use super::twilio::TwilioScheme;
use super::{Rejection, Request, SecretKey, SourceOptions};

/// What `hookgate sign` needs in place of the configured secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningInput {
    /// The secret exactly as configured for the source (symmetric schemes).
    Secret,
    /// A private key (PKCS#8 PEM) whose public key is the configured secret.
    PrivateKey,
}

/// One way providers sign webhooks, parameterised by a provider file.
pub(super) trait Scheme: fmt::Debug + Send + Sync {
    /// The name provider files select it by.
    fn name(&self) -> &'static str;

    /// Decodes one configured secret (an HMAC secret, a public key, a token) into the key this
    /// scheme verifies with; the error says what was expected and never contains the secret.
    fn decode_key(&self, secret: &str) -> Result<SecretKey, String>;

    /// The request headers verification reads (signature, timestamp, signed headers), for
    /// `hookgate providers`.
    fn headers(&self) -> Vec<&str>;

    /// The timestamp tolerance the file sets; `None` when nothing signed carries a time.
    fn default_tolerance_secs(&self) -> Option<u64> {
        None
    }

    /// The source keys (beyond `secrets`) this scheme reads, e.g. `webhook_id`.
    fn option_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks the source keys this scheme reads: `(key, why)` when one is missing or unusable.
    fn check_options(&self, _options: &SourceOptions) -> Result<(), (&'static str, String)> {
        Ok(())
    }

    /// Whether a source must configure a secret: not where the provider's certificate is
    /// fetched instead (AWS SNS, PayPal).
    fn requires_secrets(&self) -> bool {
        true
    }

    /// The URL of the certificate `req` is signed with, once it is allowed for the source
    /// (`certificate_url_refused` otherwise, before anything is fetched); `None` for schemes
    /// that verify with configured keys. [`Scheme::verify`] then finds the fetched certificate
    /// in `req.certificate`.
    fn certificate_url(&self, _req: &Request<'_>) -> Result<Option<Url>, Rejection> {
        Ok(None)
    }

    /// Checks one request against every key, in constant time per comparison; `Ok` with the
    /// index of the first key that matches (a handshake answers with that key). Schemes without
    /// configured keys answer `Ok(0)`. `tolerance_secs` overrides
    /// [`Scheme::default_tolerance_secs`].
    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection>;

    /// What `sign` takes as its secret.
    fn signing_input(&self) -> SigningInput {
        SigningInput::Secret
    }

    /// The Content-Type this provider sends to `url`.
    fn content_type(&self, _url: &str) -> &'static str {
        "application/json"
    }

    /// Adds what a sender adds to `request` (signature and timestamp headers; for schemes that
    /// sign inside the body, the signed body). Its id and type headers are already there.
    fn sign(&self, secret: &str, now_unix: i64, request: &mut SignedRequest) -> Result<(), String>;
}

/// Compiles the file's scheme; `event_id` is the compiled id location (some schemes sign it).
pub(super) fn compile(
    file: &ProviderFile,
    event_id: Option<&Location>,
) -> Result<Arc<dyn Scheme>, Invalid> {
    Invalid::reject_if(
        file.jwt.is_some() && file.scheme != SchemeName::Jwt,
        "jwt",
        "unless scheme = \"jwt\"",
    )?;
    Ok(match file.scheme {
        SchemeName::Hmac => Arc::new(HmacScheme::compile(file, event_id)?),
        SchemeName::Twilio => Arc::new(TwilioScheme::compile(file)?),
        SchemeName::AwsSns => Arc::new(AwsSnsScheme::compile(file)?),
        SchemeName::Paypal => Arc::new(PaypalScheme::compile(file)?),
        SchemeName::BodySignature => Arc::new(BodySignatureScheme::compile(file)?),
        SchemeName::Jwt => Arc::new(JwtScheme::compile(file)?),
        SchemeName::Ed25519 => Arc::new(Ed25519Scheme::compile(file, event_id)?),
        SchemeName::EcdsaP256 => Arc::new(EcdsaP256Scheme::compile(file, event_id)?),
        SchemeName::Token => Arc::new(TokenScheme::compile(file)?),
        SchemeName::BasicAuth => Arc::new(BasicAuthScheme::compile(file)?),
        SchemeName::Braintree => Arc::new(BraintreeScheme::compile(file)?),
    })
}
