//! The provider file as written (`providers/NAME.toml`); see `providers/README.md`. Unknown keys
//! are errors everywhere. Cross-key rules are checked when compiling into a `Provider`.

use serde::Deserialize;

use super::error::Invalid;
use super::key::SecretEncoding;
use super::mac::{Algorithm, Encoding};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderFile {
    pub scheme: SchemeName,
    /// HMAC only: the hash function.
    pub algorithm: Option<Algorithm>,
    /// hmac, ed25519, ecdsa-p256: the signed-string template.
    pub signed: Option<String>,
    #[serde(default)]
    pub secret: SecretSpec,
    /// Where the signature is; schemes that sign inside the body (AWS SNS) have none.
    #[serde(default)]
    pub signature: SignatureSpec,
    pub timestamp: Option<TimestampSpec>,
    pub event_id: Option<LocationSpec>,
    pub event_type: Option<LocationSpec>,
    /// The provider's endpoint check that hookgate answers itself.
    pub handshake: Option<super::handshake::HandshakeName>,
    /// The answer this provider requires to an accepted webhook.
    pub response: Option<ResponseSpec>,
    /// JWT only: the pinned algorithm and the claim binding the body.
    pub jwt: Option<JwtSpec>,
}

/// `[jwt]`: how a `scheme = "jwt"` provider's token is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JwtSpec {
    /// The only algorithm accepted (an HMAC one: the secret is shared); any other `alg` in a
    /// token, `none` included, is refused.
    pub algorithm: jsonwebtoken::Algorithm,
    /// The claim holding the lowercase hex SHA-256 of the body (Vonage's `payload_hash`).
    pub body_hash_claim: String,
}

impl ProviderFile {
    /// Refuses, by name, a scheme-specific key that `scheme` fixes itself (all but `allowed`).
    pub(super) fn only_keys(&self, scheme: &str, allowed: &[&str]) -> Result<(), Invalid> {
        match self.scheme_keys().find(|key| !allowed.contains(key)) {
            Some(key) => Err(Invalid::new(
                key,
                format!("not used by scheme = \"{scheme}\""),
            )),
            None => Ok(()),
        }
    }

    /// The scheme-specific keys this file sets.
    fn scheme_keys(&self) -> impl Iterator<Item = &'static str> {
        let secret = &self.secret;
        let signature = |set: fn(&SignatureSpec) -> bool| set(&self.signature);
        [
            ("algorithm", self.algorithm.is_some()),
            ("signed", self.signed.is_some()),
            (
                "secret",
                secret.encoding != SecretEncoding::Raw
                    || secret.prefix.is_some()
                    || !secret.expected_prefixes.is_empty()
                    || !secret.wrong_prefixes.is_empty(),
            ),
            ("signature.header", signature(|s| s.header.is_some())),
            ("signature.pointer", signature(|s| s.pointer.is_some())),
            ("signature.items", signature(|s| s.items.is_some())),
            (
                "signature.ecdsa_format",
                signature(|s| s.ecdsa_format.is_some()),
            ),
            ("signature.configurable", signature(|s| s.configurable)),
            ("signature.encoding", signature(|s| s.encoding.is_some())),
            (
                "signature.format",
                signature(|s| s.format != HeaderFormat::Value),
            ),
            ("signature.prefix", signature(|s| s.prefix.is_some())),
            (
                "signature.pair_separator",
                signature(|s| s.pair_separator.is_some()),
            ),
            (
                "signature.kv_separator",
                signature(|s| s.kv_separator.is_some()),
            ),
            ("signature.keys", signature(|s| s.keys.is_some())),
            ("timestamp", self.timestamp.is_some()),
            (
                "timestamp.key",
                self.timestamp.as_ref().is_some_and(|t| t.key.is_some()),
            ),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
    }
}

impl ProviderFile {}

/// `[response]`: where a provider demands a specific answer to an accepted webhook (Xero's
/// `200` with an empty body, Discord's `204`, Adyen's `[accepted]`), duplicates included.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResponseSpec {
    /// A 2xx status.
    pub status: u16,
    /// The body, sent as `text/plain`; empty by default.
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum SchemeName {
    Hmac,
    Twilio,
    AwsSns,
    Paypal,
    BodySignature,
    Jwt,
    Ed25519,
    EcdsaP256,
    Token,
    BasicAuth,
    Braintree,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SecretSpec {
    #[serde(default)]
    pub encoding: SecretEncoding,
    pub prefix: Option<String>,
    /// A real signing secret starts with one of these; `check-config` warns otherwise.
    #[serde(default)]
    pub expected_prefixes: Vec<String>,
    /// Other credentials of this provider that are pasted by mistake, recognised by prefix.
    #[serde(default)]
    pub wrong_prefixes: Vec<WrongPrefixSpec>,
}

/// A credential prefix that is not a signing secret, and what it is instead.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WrongPrefixSpec {
    pub prefix: String,
    /// What a value with this prefix is, e.g. "a Stripe secret API key".
    pub what: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignatureSpec {
    /// Header schemes: the header holding the signature.
    pub header: Option<String>,
    /// `body-signature`: a JSON pointer (within each item) to the signature; `token`: to the
    /// token in the body, where `*` stands for every array item.
    pub pointer: Option<String>,
    /// `body-signature`: the signed items, e.g. `/notificationItems/*/NotificationRequestItem`.
    pub items: Option<String>,
    pub encoding: Option<Encoding>,
    #[serde(default)]
    pub format: HeaderFormat,
    pub prefix: Option<String>,
    pub pair_separator: Option<String>,
    pub kv_separator: Option<String>,
    pub keys: Option<Vec<String>>,
    /// ecdsa-p256 only: how the signature bytes are laid out.
    pub ecdsa_format: Option<EcdsaFormat>,
    /// token only: a source may move the token with `token_header` / `token_query`.
    #[serde(default)]
    pub configurable: bool,
}

impl SignatureSpec {
    /// The `header` key, which `scheme` requires.
    pub fn header(&self, scheme: &str) -> Result<String, Invalid> {
        match self.header.as_deref() {
            Some(header) if !header.is_empty() => Ok(header.to_string()),
            _ => Err(Invalid::new(
                "signature.header",
                format!("required (non-empty) with scheme = \"{scheme}\""),
            )),
        }
    }

    /// Refuses the scheme-specific keys that `scheme` does not read (`allowed` are those it does).
    pub fn reject_unused(&self, scheme: &str, allowed: &[&str]) -> Result<(), Invalid> {
        let context = format!("by scheme = \"{scheme}\"");
        for (key, set) in [
            ("signature.ecdsa_format", self.ecdsa_format.is_some()),
            ("signature.pointer", self.pointer.is_some()),
            ("signature.items", self.items.is_some()),
            ("signature.configurable", self.configurable),
        ] {
            Invalid::reject_if(set && !allowed.contains(&key), key, &context)?;
        }
        Ok(())
    }
}

/// An ECDSA signature as bytes: ASN.1 DER (what most senders, SendGrid included, use) or the
/// fixed-width `r || s` of JOSE and WebCrypto.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum EcdsaFormat {
    #[default]
    Der,
    Raw,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum HeaderFormat {
    #[default]
    Value,
    Pairs,
    /// The signed timestamp, then the signatures, separated by `pair_separator` (Recurly).
    List,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TimestampSpec {
    pub header: Option<String>,
    /// A pair of the signature header; for `scheme = "jwt"`, a claim of the token.
    pub key: Option<String>,
    /// `body-signature`: a JSON pointer (within each item) to the timestamp.
    pub pointer: Option<String>,
    pub tolerance_secs: u64,
    #[serde(default)]
    pub format: super::timestamp::TimestampFormat,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LocationSpec {
    pub header: Option<String>,
    pub pointer: Option<String>,
    /// `event_type` with `header` only: the value `sign` puts in that header.
    pub example: Option<String>,
}
