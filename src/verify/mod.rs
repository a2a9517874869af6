//! Inbound webhook signature verification, driven by provider definition files.
//!
//! A provider file (`providers/NAME.toml`, schema in `providers/README.md`) is parsed once into a
//! [`Provider`]; each request is then checked with [`Provider::verify`] against the source's
//! decoded [`SecretKey`]s, and identified with [`Provider::identify`].

mod aws_sns;
mod basic_auth;
mod body_pointer;
mod body_signature;
mod braintree;
mod cert_url;
mod certificate;
mod certificate_cache;
mod ecdsa;
mod ed25519;
mod error;
mod form;
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod headers;
mod hmac_scheme;
mod identity;
mod jwt;
mod key;
mod mac;
mod paypal;
mod provider;
mod registry;
mod schema;
mod scheme;
mod secret_hints;
mod shared_secret;
mod sign;
mod signature_header;
mod signed_message;
mod template;
mod timestamp;
mod token;
mod twilio;

#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod provider_tests;

pub use certificate::SigningCertificate;
pub use error::{ProviderError, Rejection};
pub use handshake::{Answer, HandshakeRecord, Refused};
pub use headers::HeaderSource;
pub use identity::EventIdentity;
pub use key::SecretKey;
pub use provider::{AcceptedResponse, Provider};
pub use registry::{Origin, ProviderEntry, ProviderRegistry, UnknownProvider};
pub use scheme::SigningInput;
pub use sign::SignedRequest;

/// Everything verification looks at.
pub struct Request<'a> {
    /// The request headers, looked up case-insensitively.
    pub headers: &'a dyn HeaderSource,
    /// The exact body bytes as received.
    pub body: &'a [u8],
    /// The full URL the provider posted to (scheme, host, path and query), for URL-signing schemes.
    pub url: &'a str,
    /// The current time in unix seconds, for timestamp tolerance.
    pub now_unix: i64,
    /// The source's provider-specific keys.
    pub options: &'a SourceOptions,
    /// The signing certificate the request names (AWS SNS, PayPal), from
    /// [`Provider::fetch_certificate`]; `None` for every other provider.
    pub certificate: Option<&'a SigningCertificate>,
}

/// The `[[sources]]` keys that only some providers read; [`Provider::check_options`] refuses a
/// key the source's provider does not use. `Debug` hides `verify_token`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// The token a GET subscription handshake must carry (Meta's `hub.verify_token`).
    pub verify_token: Option<String>,
    /// URL prefixes a signing certificate may be fetched from, replacing the provider's default.
    pub allowed_cert_urls: Vec<String>,
    /// The only AWS SNS topics accepted; empty accepts any.
    pub topic_arns: Vec<String>,
    /// Confirm AWS SNS subscriptions by fetching their SubscribeURL.
    pub auto_confirm: bool,
    /// The provider's id for this webhook registration, which it signs (PayPal).
    pub webhook_id: Option<String>,
    /// The header the generic `token` provider reads the token from.
    pub token_header: Option<String>,
    /// The query parameter the generic `token` provider reads the token from.
    pub token_query: Option<String>,
}

impl std::fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceOptions")
            .field("verify_token", &crate::redact::option(&self.verify_token))
            .field("allowed_cert_urls", &self.allowed_cert_urls)
            .field("topic_arns", &self.topic_arns)
            .field("auto_confirm", &self.auto_confirm)
            .field("webhook_id", &self.webhook_id)
            .field("token_header", &self.token_header)
            .field("token_query", &self.token_query)
            .finish()
    }
}

impl SourceOptions {
    /// Options with every key unset.
    pub const NONE: &SourceOptions = &SourceOptions {
        verify_token: None,
        allowed_cert_urls: Vec::new(),
        topic_arns: Vec::new(),
        auto_confirm: false,
        webhook_id: None,
        token_header: None,
        token_query: None,
    };

    /// The names of the keys that are set.
    pub fn set_keys(&self) -> impl Iterator<Item = &'static str> {
        [
            ("verify_token", self.verify_token.is_some()),
            ("allowed_cert_urls", !self.allowed_cert_urls.is_empty()),
            ("topic_arns", !self.topic_arns.is_empty()),
            ("auto_confirm", self.auto_confirm),
            ("webhook_id", self.webhook_id.is_some()),
            ("token_header", self.token_header.is_some()),
            ("token_query", self.token_query.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
    }
}
