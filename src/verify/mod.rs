//! Inbound webhook signature verification, driven by provider definition files.
//!
//! A provider file (`providers/NAME.toml`, schema in `providers/README.md`) is parsed once into a
//! [`Provider`]; each request is then checked with [`Provider::verify`] against the source's
//! decoded [`SecretKey`]s, and identified with [`Provider::identify`].

mod error;
mod headers;
mod hmac_scheme;
mod identity;
mod mac;
mod provider;
mod registry;
mod schema;
mod secret_hints;
mod sign;
mod signature_header;
mod template;
mod timestamp;
mod twilio;

#[cfg(test)]
mod provider_tests;

pub use error::{ProviderError, Rejection};
pub use headers::HeaderSource;
pub use identity::EventIdentity;
pub use mac::SecretKey;
pub use provider::Provider;
pub use registry::{Origin, ProviderEntry, ProviderRegistry, UnknownProvider};

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
}
