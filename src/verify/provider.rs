//! One provider definition: parsed from TOML, checked, and compiled once.

use std::sync::Arc;

use super::certificate_cache::CertificateCache;
use super::error::Invalid;
use super::handshake::{self, Answer, Handshake, HandshakeName, Refused};
use super::identity::{Identity, Location};
use super::key::SecretEncoding;
use super::schema::{LocationSpec, ProviderFile};
use super::scheme::{self, Scheme, SigningInput};
use super::secret_hints::SecretHints;
use super::{
    EventIdentity, ProviderError, Rejection, Request, SecretKey, SigningCertificate, SourceOptions,
};

/// The fixed answer a provider requires to an accepted webhook (`[response]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedResponse {
    pub status: u16,
    /// Sent as `text/plain` when not empty.
    pub body: String,
}

/// One parsed `providers/NAME.toml`: how that provider signs and identifies its webhooks.
#[derive(Debug, Clone)]
pub struct Provider {
    pub(super) name: String,
    secret_hints: SecretHints,
    pub(super) scheme: Arc<dyn Scheme>,
    handshake: Option<(HandshakeName, Arc<dyn Handshake>)>,
    /// The answer to an accepted webhook, when the provider demands one.
    accepted_response: Option<AcceptedResponse>,
    pub(super) identity: Identity,
    /// The event type `sign` sends when the type travels in a header.
    pub(super) type_example: Option<String>,
    /// Signing certificates fetched for this provider's requests, by URL.
    certificates: CertificateCache,
}

impl Provider {
    /// Parses and checks a provider file; errors name the provider, the key and why.
    pub fn parse(name: &str, toml_text: &str) -> Result<Provider, ProviderError> {
        let file: ProviderFile =
            toml::from_str(toml_text).map_err(|error| ProviderError::Syntax {
                provider: name.to_string(),
                message: error.to_string().trim_end().to_string(),
            })?;
        Self::compile(name, file).map_err(|invalid| invalid.into_error(name))
    }

    fn compile(name: &str, file: ProviderFile) -> Result<Provider, Invalid> {
        let id = location(file.event_id.as_ref(), "event_id")?;
        let kind = location(file.event_type.as_ref(), "event_type")?;
        if file
            .event_id
            .as_ref()
            .is_some_and(|spec| spec.example.is_some())
        {
            return Err(Invalid::new(
                "event_id.example",
                "only used in [event_type]",
            ));
        }
        let example = file
            .event_type
            .as_ref()
            .and_then(|spec| spec.example.clone());
        let type_example = match (kind.as_ref().and_then(Location::header), example) {
            (Some(_), None) => {
                return Err(Invalid::new(
                    "event_type.example",
                    "required with event_type.header: the type `sign` sends",
                ));
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "event_type.example",
                    "only used with event_type.header",
                ));
            }
            (_, example) => example,
        };
        Invalid::reject_if(
            file.secret.prefix.is_some() && file.secret.encoding == SecretEncoding::Raw,
            "secret.prefix",
            "with secret.encoding = \"raw\" (the raw secret includes any prefix)",
        )?;
        let secret_hints = SecretHints::compile(&file.secret)?;
        let scheme = scheme::compile(&file, id.as_ref())?;
        let accepted_response = file.response.map(|response| AcceptedResponse {
            status: response.status,
            body: response.body,
        });
        Invalid::reject_if(
            accepted_response
                .as_ref()
                .is_some_and(|response| !(200..300).contains(&response.status)),
            "response.status",
            "unless it is a 2xx status",
        )?;
        Ok(Provider {
            name: name.to_string(),
            secret_hints,
            handshake: file.handshake.map(|name| (name, handshake::compile(name))),
            accepted_response,
            scheme,
            identity: Identity { id, kind },
            type_example,
            certificates: CertificateCache::default(),
        })
    }

    /// The provider's name (the file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signing scheme's name as the file writes it: `hmac` or a built-in such as `twilio`.
    pub fn scheme_name(&self) -> &'static str {
        self.scheme.name()
    }

    /// The request headers verification reads.
    pub fn headers(&self) -> Vec<&str> {
        self.scheme.headers()
    }

    /// What `sign` takes as its secret: the configured secret, or a private key file.
    pub fn signing_input(&self) -> SigningInput {
        self.scheme.signing_input()
    }

    /// Why `secret` is obviously not this provider's webhook signing secret (an API key of the
    /// provider, say), from the file's `[secret]` prefixes; `None` when it may well be. The
    /// answer never contains the secret.
    pub fn secret_warning(&self, secret: &str) -> Option<String> {
        self.secret_hints.warning(secret)
    }

    /// The timestamp tolerance from the file; `None` when the provider signs no timestamp.
    pub fn default_tolerance_secs(&self) -> Option<u64> {
        self.scheme.default_tolerance_secs()
    }

    /// Decodes one configured secret; the error says what was expected, never the secret.
    pub fn secret_key(&self, secret: &str) -> Result<SecretKey, ProviderError> {
        self.scheme
            .decode_key(secret)
            .map_err(|reason| ProviderError::Secret {
                provider: self.name.clone(),
                reason,
            })
    }

    /// The provider file's `handshake`, if any.
    pub fn handshake_name(&self) -> Option<&'static str> {
        self.handshake.as_ref().map(|(name, _)| name.as_str())
    }

    /// Whether a source of this provider must have a secret (Notion's may not yet: its first
    /// request brings it; AWS SNS and PayPal sign with a certificate fetched per request).
    pub fn requires_secrets(&self) -> bool {
        self.scheme.requires_secrets()
            && !self
                .handshake
                .as_ref()
                .is_some_and(|(_, handshake)| handshake.allows_no_secret())
    }

    /// The signing certificate `req` names, from the cache or fetched from its URL once that
    /// is allowed for the source; `None` for providers that verify with configured keys. This
    /// is the only step of verification that waits on the network: call it before
    /// [`Provider::verify`] and put the result in the request's `certificate`.
    pub async fn fetch_certificate(
        &self,
        req: &Request<'_>,
    ) -> Result<Option<Arc<SigningCertificate>>, Rejection> {
        match self.scheme.certificate_url(req)? {
            Some(url) => self.certificates.get(&url).await.map(Some),
            None => Ok(None),
        }
    }

    /// The answer to an accepted (or duplicate) webhook where the provider demands one; `None`:
    /// the usual JSON acknowledgement.
    pub fn accepted_response(&self) -> Option<&AcceptedResponse> {
        self.accepted_response.as_ref()
    }

    /// The answer to a GET on the webhook path with this raw query string; `None` for providers
    /// that send no GET requests.
    pub fn handshake_get(
        &self,
        query: &str,
        options: &SourceOptions,
        keys: &[SecretKey],
    ) -> Option<Result<Answer, Refused>> {
        self.handshake()?.get(query, options, keys)
    }

    /// The answer to a request the provider sends unsigned (checked before verification).
    pub fn handshake_unsigned(&self, req: &Request<'_>) -> Option<Answer> {
        self.handshake()?.unsigned(req)
    }

    /// The answer to a verified request that is a handshake; `key` is the key it verified with
    /// (none for providers without configured keys).
    pub fn handshake_verified(&self, req: &Request<'_>, key: Option<&SecretKey>) -> Option<Answer> {
        self.handshake()?.verified(req, key)
    }

    fn handshake(&self) -> Option<&dyn Handshake> {
        self.handshake.as_ref().map(|(_, handshake)| &**handshake)
    }

    /// Checks a source's provider-specific keys: `(key, why)` for the first that is missing,
    /// unusable, or set although this provider does not read it.
    pub fn check_options(&self, options: &SourceOptions) -> Result<(), (&'static str, String)> {
        let handshake_keys = self.handshake().map_or(&[][..], |h| h.option_keys());
        let used =
            |key: &&str| self.scheme.option_keys().contains(key) || handshake_keys.contains(key);
        if let Some(unused) = options.set_keys().find(|key| !used(key)) {
            return Err((unused, format!("not used by provider `{}`", self.name)));
        }
        self.scheme.check_options(options)
    }

    /// Checks the request against every key (decoded by this provider's [`Provider::secret_key`])
    /// and every signature in the header, comparing decoded bytes in constant time; `Ok` with the
    /// index of the first key that matches. `tolerance_secs` overrides [`Provider::default_tolerance_secs`]; a timestamp
    /// outside the tolerance in either direction is rejected. A header verification reads
    /// that is repeated is rejected first, whichever copy is valid.
    pub fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        if self
            .headers()
            .iter()
            .any(|name| req.headers.is_repeated(name))
        {
            return Err(Rejection::RepeatedHeader);
        }
        self.scheme.verify(req, keys, tolerance_secs)
    }

    /// The event id and type from where the file says; the body is parsed as JSON at most once
    /// and only when needed. Without an id, the lowercase hex SHA-256 of the body.
    pub fn identify(&self, req: &Request<'_>) -> EventIdentity {
        self.identity.identify(req)
    }
}

fn location(spec: Option<&LocationSpec>, table: &'static str) -> Result<Option<Location>, Invalid> {
    spec.map(|spec| Location::compile(spec, table)).transpose()
}
