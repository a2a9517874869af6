//! One provider definition: parsed from TOML, checked, and compiled once.

use super::error::Invalid;
use super::hmac_scheme::HmacScheme;
use super::identity::{Identity, Location};
use super::mac::SecretEncoding;
use super::schema::{LocationSpec, ProviderFile, SchemeName};
use super::secret_hints::SecretHints;
use super::twilio::TwilioScheme;
use super::{EventIdentity, ProviderError, Rejection, Request, SecretKey};

/// The compiled signing scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scheme {
    Hmac(HmacScheme),
    Twilio(TwilioScheme),
}

/// One parsed `providers/NAME.toml`: how that provider signs and identifies its webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub(super) name: String,
    pub(super) secret_encoding: SecretEncoding,
    pub(super) secret_prefix: Option<String>,
    secret_hints: SecretHints,
    pub(super) scheme: Scheme,
    pub(super) identity: Identity,
    /// The event type `sign` sends when the type travels in a header.
    pub(super) type_example: Option<String>,
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
        let scheme = match file.scheme {
            SchemeName::Hmac => Scheme::Hmac(HmacScheme::compile(&file, id.as_ref())?),
            SchemeName::Twilio => Scheme::Twilio(TwilioScheme::compile(&file)?),
        };
        Ok(Provider {
            name: name.to_string(),
            secret_encoding: file.secret.encoding,
            secret_prefix: file.secret.prefix,
            secret_hints,
            scheme,
            identity: Identity { id, kind },
            type_example,
        })
    }

    /// The provider's name (the file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signing scheme's name as the file writes it: `hmac` or a built-in such as `twilio`.
    pub fn scheme_name(&self) -> &'static str {
        match &self.scheme {
            Scheme::Hmac(_) => "hmac",
            Scheme::Twilio(_) => "twilio",
        }
    }

    /// Why `secret` is obviously not this provider's webhook signing secret (an API key of the
    /// provider, say), from the file's `[secret]` prefixes; `None` when it may well be. The
    /// answer never contains the secret.
    pub fn secret_warning(&self, secret: &str) -> Option<String> {
        self.secret_hints.warning(secret)
    }

    /// The timestamp tolerance from the file; `None` when the provider signs no timestamp.
    pub fn default_tolerance_secs(&self) -> Option<u64> {
        match &self.scheme {
            Scheme::Hmac(hmac) => hmac.default_tolerance_secs(),
            Scheme::Twilio(_) => None,
        }
    }

    /// Decodes one configured secret; the error says what was expected, never the secret.
    pub fn secret_key(&self, secret: &str) -> Result<SecretKey, ProviderError> {
        let algorithm = match &self.scheme {
            Scheme::Hmac(hmac) => hmac.algorithm(),
            Scheme::Twilio(_) => TwilioScheme::ALGORITHM,
        };
        SecretKey::decode(
            secret,
            self.secret_encoding,
            self.secret_prefix.as_deref(),
            algorithm,
        )
        .map_err(|reason| ProviderError::Secret {
            provider: self.name.clone(),
            reason,
        })
    }

    /// Checks the request against every key (decoded by this provider's [`Provider::secret_key`])
    /// and every signature in the header, comparing decoded bytes in constant time; `Ok` when any
    /// matches. `tolerance_secs` overrides [`Provider::default_tolerance_secs`]; a timestamp
    /// outside the tolerance in either direction is rejected.
    pub fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<(), Rejection> {
        match &self.scheme {
            Scheme::Hmac(hmac) => hmac.verify(req, keys, tolerance_secs),
            Scheme::Twilio(twilio) => twilio.verify(req, keys),
        }
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
