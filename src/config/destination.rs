//! `[[destinations]]`: where deliveries go, how they are retried, and when a destination's
//! circuit opens.

use super::env_value;
use super::ordering::{OnDead, OrderingConfig};
use super::tls::ClientTlsConfig;
use crate::redact;
use serde::Deserialize;
use std::fmt;

/// `[[destinations]]`: an internal API that receives deliveries, or a queue its consumers
/// pull them from. `Debug` hides `signing_secret`, `consumer_tokens` and any password in the
/// URL.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    #[serde(deserialize_with = "env_value::string")]
    pub id: String,
    /// How deliveries reach it: pushed to `url`, or pulled by its consumers.
    #[serde(default)]
    pub kind: DestinationKind,
    /// Where deliveries are pushed; empty for a pull destination, which has none.
    #[serde(deserialize_with = "env_value::string", default)]
    pub url: String,
    /// The bearer tokens a pull destination's consumers present (any one may match, for
    /// rotation); entries that expand to nothing are dropped.
    #[serde(deserialize_with = "env_value::string_list", default)]
    pub consumer_tokens: Vec<String>,
    /// `kind = "redis-stream"`: the stream each delivery is added to.
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub stream: Option<String>,
    /// `kind = "redis-stream"`: trim the stream to about this many entries as it grows.
    #[serde(deserialize_with = "env_value::optional_number", default)]
    pub maxlen: Option<u64>,
    /// `kind = "nats"`: the subject each delivery is published to (a JetStream stream must
    /// take it).
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub subject: Option<String>,
    /// `kind = "amqp"`: the exchange each delivery is published to; without one, RabbitMQ's
    /// default exchange, which routes by queue name (`routing_key` is the queue).
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub exchange: Option<String>,
    /// `kind = "amqp"`: the routing key each delivery is published with.
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub routing_key: Option<String>,
    #[serde(
        deserialize_with = "env_value::number",
        default = "defaults::timeout_ms"
    )]
    pub timeout_ms: u64,
    #[serde(
        deserialize_with = "env_value::number",
        default = "defaults::max_attempts"
    )]
    pub max_attempts: u32,
    #[serde(
        deserialize_with = "env_value::number",
        default = "defaults::backoff_base_ms"
    )]
    pub backoff_base_ms: u64,
    #[serde(
        deserialize_with = "env_value::number",
        default = "defaults::backoff_max_ms"
    )]
    pub backoff_max_ms: u64,
    #[serde(
        deserialize_with = "env_value::number",
        default = "defaults::concurrency"
    )]
    pub concurrency: u32,
    #[serde(deserialize_with = "env_value::optional_number", default)]
    pub rate_limit_per_sec: Option<u32>,
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub signing_secret: Option<String>,
    /// A private CA and a client certificate for HTTPS; the defaults trust the platform's and
    /// the bundled roots and present no certificate.
    #[serde(default)]
    pub tls: ClientTlsConfig,
    /// When the destination's circuit opens and for how long.
    #[serde(default)]
    pub circuit: CircuitConfig,
    /// Deliveries sharing a key go one at a time, in ingest order; absent: no order.
    #[serde(default)]
    pub ordering: Option<OrderingConfig>,
}

/// `kind` of a destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    /// Workers POST each delivery to its `url`.
    #[default]
    Http,
    /// Deliveries wait until a consumer leases them over `/consume/{id}` and acknowledges them.
    Pull,
    /// Workers add each delivery to the Redis stream `stream` at `url` (`XADD`).
    #[serde(rename = "redis-stream")]
    RedisStream,
    /// Workers publish each delivery to the JetStream subject `subject` at `url` and await the
    /// stream's acknowledgement.
    Nats,
    /// Workers publish each delivery to the AMQP 0-9-1 (RabbitMQ) exchange `exchange` at `url`
    /// with `routing_key`, mandatory and persistent, and await the broker's confirm.
    Amqp,
}

impl DestinationConfig {
    /// Whether consumers pull its deliveries (no worker pushes them).
    pub fn is_pull(&self) -> bool {
        self.kind == DestinationKind::Pull
    }

    /// Whether a dead delivery holds back the later deliveries of its ordering key.
    pub fn dead_head_blocks(&self) -> bool {
        self.ordering
            .as_ref()
            .is_some_and(|ordering| ordering.on_dead == OnDead::Block)
    }
}

/// `circuit = { failure_threshold, cool_down_ms, max_cool_down_ms }` of a destination: after
/// this many consecutive failures its deliveries wait `cool_down_ms` without spending attempts,
/// then one probe tries; each failed probe doubles the wait up to `max_cool_down_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircuitConfig {
    #[serde(deserialize_with = "env_value::number")]
    pub failure_threshold: u32,
    #[serde(deserialize_with = "env_value::number")]
    pub cool_down_ms: u64,
    #[serde(deserialize_with = "env_value::number")]
    pub max_cool_down_ms: u64,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        CircuitConfig {
            failure_threshold: 5,
            cool_down_ms: 30_000,
            max_cool_down_ms: 300_000,
        }
    }
}

impl fmt::Debug for DestinationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("url", &redact::url(&self.url))
            .field("consumer_tokens", &redact::list(&self.consumer_tokens))
            .field("stream", &self.stream)
            .field("maxlen", &self.maxlen)
            .field("subject", &self.subject)
            .field("exchange", &self.exchange)
            .field("routing_key", &self.routing_key)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base_ms", &self.backoff_base_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("concurrency", &self.concurrency)
            .field("rate_limit_per_sec", &self.rate_limit_per_sec)
            .field("signing_secret", &redact::option(&self.signing_secret))
            .field("tls", &self.tls)
            .field("circuit", &self.circuit)
            .field("ordering", &self.ordering)
            .finish()
    }
}

mod defaults {
    pub fn timeout_ms() -> u64 {
        5_000
    }
    pub fn max_attempts() -> u32 {
        15
    }
    pub fn backoff_base_ms() -> u64 {
        2_000
    }
    pub fn backoff_max_ms() -> u64 {
        3_600_000
    }
    pub fn concurrency() -> u32 {
        32
    }
}
