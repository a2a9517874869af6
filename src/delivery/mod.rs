//! Delivery building blocks: the retry policy, the circuit breaker, the rate limiter,
//! Standard Webhooks signing, the HTTP attempt and the clients it goes out on; and the
//! workers that put them together.

pub mod circuit;
mod clients;
mod connector;
mod finisher;
mod http_client;
pub mod inline;
mod log;
pub mod policy;
pub mod rate_limit;
pub mod request;
mod reshape;
mod runner;
pub mod signing;
mod targets;
#[cfg(test)]
mod testing;
mod tls_failure;
mod worker;

pub use circuit::{CircuitBreaker, CircuitSettings, CircuitState, Permit};
pub use http_client::{Endpoint, HttpClient};
pub use policy::{Outcome, RetryPolicy, Step, jitter, parse_retry_after};
pub use rate_limit::RateLimiter;
pub use request::{Attempt, AttemptResult, send};
pub use runner::{Circuits, ConsumerWake, Delivery, RemoteWake, Wakers, listen_for_work, start};
pub use signing::{SigningKey, SigningKeyError};

/// A destination with the configured defaults, for tests.
#[cfg(test)]
fn test_destination(url: &str) -> crate::config::DestinationConfig {
    crate::config::DestinationConfig {
        id: "billing".into(),
        kind: Default::default(),
        url: url.into(),
        consumer_tokens: Vec::new(),
        stream: None,
        maxlen: None,
        subject: None,
        exchange: None,
        routing_key: None,
        timeout_ms: 5_000,
        max_attempts: 15,
        backoff_base_ms: 2_000,
        backoff_max_ms: 3_600_000,
        concurrency: 32,
        rate_limit_per_sec: None,
        signing_secret: None,
        tls: Default::default(),
        circuit: Default::default(),
        ordering: None,
    }
}
