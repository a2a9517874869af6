//! The configuration file: TOML with `${VAR}` interpolation, environment overrides and
//! validation that names the exact key at fault.

mod destination;
mod env_value;
mod interpolate;
mod ordering;
mod routes;
mod tls;
mod unset_env;
mod validate;

use crate::redact;
pub use destination::{CircuitConfig, DestinationConfig, DestinationKind};
pub use env_value::EnvLookup;
pub use ordering::{OnDead, OrderingConfig, SOURCE_KEY};
pub use routes::{ConnectionConfig, FilterConfig, MatchConfig};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
pub use tls::{ClientTlsConfig, ListenerTlsConfig};
pub use unset_env::UnsetVariable;

/// Default config path when neither `--config` nor `HOOKGATE_CONFIG` is given.
pub const DEFAULT_PATH: &str = "hookgate.toml";

/// Why a configuration cannot be used. The message says which file, key and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The cause is part of the message and deliberately not a `source()`, so that error
    /// chains print it once.
    #[error("cannot read config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// `${NAME}` references without a default whose variables are not set: all of them.
    #[error("{path}: {}", join(unset))]
    UnsetEnv {
        path: PathBuf,
        unset: Vec<UnsetVariable>,
    },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

fn join(unset: &[UnsetVariable]) -> String {
    let messages: Vec<String> = unset.iter().map(ToString::to_string).collect();
    messages.join("; ")
}

/// What reading a config does with `${NAME}` references (without a default) to unset variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsetEnv {
    /// Fail with [`ConfigError::UnsetEnv`], naming every one: what running hookgate needs.
    Reject,
    /// Read them as empty and skip the checks of the keys that use them, recording them in
    /// [`Config::unset_env`]: for validating a config where its environment is not at hand.
    Allow,
}

/// The whole hookgate configuration, as read from the file and the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: Option<RedisConfig>,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub destinations: Vec<DestinationConfig>,
    /// The unset variables read as empty under [`UnsetEnv::Allow`]; empty otherwise.
    #[serde(skip)]
    pub unset_env: Vec<UnsetVariable>,
}

/// `[server]`: listeners and request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Public ingest listener.
    #[serde(deserialize_with = "env_value::string")]
    pub listen: String,
    /// Admin API and metrics listener.
    #[serde(deserialize_with = "env_value::string")]
    pub admin_listen: String,
    /// Larger request bodies are refused with 413; at most 25 MiB (GitHub's largest webhook).
    #[serde(deserialize_with = "env_value::number")]
    pub max_body_bytes: usize,
    /// Most bytes of request bodies ingest holds in memory at once; a body that does not fit
    /// is answered 503 + Retry-After without being read.
    #[serde(deserialize_with = "env_value::number")]
    pub max_inflight_body_bytes: usize,
    /// Directory of extra `NAME.toml` provider definitions, which add to the built-in ones or
    /// override one by name; relative to the config file (else the working directory). Unset:
    /// only the built-in providers.
    #[serde(deserialize_with = "env_value::optional_string")]
    pub providers_dir: Option<String>,
    /// Where `transform = "NAME"` finds `NAME.js`; relative to the config file (else the
    /// working directory).
    #[serde(deserialize_with = "env_value::string")]
    pub transforms_dir: String,
    /// Wall-clock limit of one transform call; a script still running is stopped.
    #[serde(deserialize_with = "env_value::number")]
    pub transform_timeout_ms: u64,
    /// Memory one transform runtime may hold; a script that needs more is stopped.
    #[serde(deserialize_with = "env_value::number")]
    pub transform_memory_mb: usize,
    /// Ingest answers 503 at once when the events already waiting for a commit are expected
    /// to take longer than this many milliseconds to store.
    #[serde(deserialize_with = "env_value::number")]
    pub max_queue_wait_ms: u64,
    /// A webhook that finds the commit writer idle waits up to this many milliseconds for
    /// others to share its commit (0: written at once); see [`crate::ingest::writer`]. Unset:
    /// [`DEFAULT_COMMIT_LINGER_MS`], or half of `max_queue_wait_ms` if that is less.
    #[serde(deserialize_with = "env_value::optional_number")]
    pub commit_linger_ms: Option<u64>,
    /// Most connections the ingest listener serves at once (default
    /// [`SERVED_CONNECTIONS_PER_CPU`] per CPU). A few more are accepted only to answer their
    /// webhooks 503 + Retry-After and close them (see [`crate::ingest::shedding`]); beyond
    /// those, new connections wait in the kernel's accept queue, so memory and answer times
    /// stay bounded under a flood.
    #[serde(deserialize_with = "env_value::number")]
    pub max_connections: usize,
    /// A webhook's body must have arrived within this many milliseconds of its request head
    /// (itself due within 5 s of the connection); a slower one is answered `408` and its
    /// connection closed, so clients that trickle bodies cannot hold connections.
    #[serde(deserialize_with = "env_value::number")]
    pub request_timeout_ms: u64,
    /// How long a connection may stay open idle between requests; on a kept-alive ingest
    /// connection the next request's head must then be complete within a further 5 s, so a
    /// client cannot hold a connection by trickling it. Behind a load balancer that reuses
    /// connections, set it above the balancer's idle timeout.
    #[serde(deserialize_with = "env_value::number")]
    pub keep_alive_ms: u64,
    /// Serve ingest over TLS with this certificate (reloaded on `SIGHUP`).
    pub tls: Option<ListenerTlsConfig>,
    /// Serve the admin API over TLS with this certificate (reloaded on `SIGHUP`).
    pub admin_tls: Option<ListenerTlsConfig>,
    /// Rebuild a signed URL from `X-Forwarded-Proto`/`X-Forwarded-Host` (and `Forwarded`):
    /// only behind a proxy that sets them, since a client could otherwise choose the URL that
    /// URL-signing schemes check. A source's `public_url` is the safer alternative.
    #[serde(deserialize_with = "env_value::bool")]
    pub trust_forwarded_headers: bool,
}

/// Ingest connections served at once per CPU unless `[server] max_connections` says
/// otherwise. A served connection carries one request at a time and a CPU answers a few
/// thousand webhooks a second, so this bounds how long a request waits inside hookgate when
/// every connection is busy: with 10,000 served, answers took seconds under a flood; at about
/// 500 per CPU they stay under a quarter second (bench/RESULTS.md).
pub const SERVED_CONNECTIONS_PER_CPU: usize = 512;

/// How long a webhook that finds the commit writer idle waits for company, unless
/// `[server] commit_linger_ms` says otherwise: long enough to gather the events of a moderate
/// rate into one commit, short beside the milliseconds a commit takes anyway.
pub const DEFAULT_COMMIT_LINGER_MS: u64 = 2;

impl ServerConfig {
    /// `commit_linger_ms`, or its default: never more than half of `max_queue_wait_ms`, the
    /// wait in the commit queue that admission allows.
    pub fn commit_linger(&self) -> std::time::Duration {
        let linger = self
            .commit_linger_ms
            .unwrap_or(DEFAULT_COMMIT_LINGER_MS)
            .min(self.max_queue_wait_ms / 2);
        std::time::Duration::from_millis(linger)
    }
}

/// The CPUs this process may run on: its HTTP servers start a worker thread on each.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8080".into(),
            admin_listen: "127.0.0.1:8081".into(),
            max_body_bytes: 1024 * 1024,
            max_inflight_body_bytes: 256 * 1024 * 1024,
            providers_dir: None,
            transforms_dir: "transforms".into(),
            transform_timeout_ms: 50,
            transform_memory_mb: 16,
            max_queue_wait_ms: 250,
            commit_linger_ms: None,
            max_connections: SERVED_CONNECTIONS_PER_CPU * cpus(),
            request_timeout_ms: 30_000,
            keep_alive_ms: 5_000,
            tls: None,
            admin_tls: None,
            trust_forwarded_headers: false,
        }
    }
}

/// `[database]`: the Postgres that holds every event. `Debug` hides the URL's password.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    #[serde(deserialize_with = "env_value::string", default)]
    pub url: String,
    #[serde(
        deserialize_with = "env_value::number",
        default = "default_max_connections"
    )]
    /// The main pool's size (admin API, readiness, retention). Ingest's commit writer and the
    /// delivery attempt recorder hold one connection each of their own, and the delivery
    /// queue a pool of up to four, besides.
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    16
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact::url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[redis]`: optional accelerator; an empty URL means no Redis. `Debug` hides the URL's
/// password.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub url: Option<String>,
    /// Prefix of every key hookgate writes, so several deployments can share one Redis.
    #[serde(deserialize_with = "env_value::string", default = "default_key_prefix")]
    pub key_prefix: String,
    /// A private CA (PEM) trusted for `rediss://`, besides the platform's and bundled roots.
    #[serde(deserialize_with = "tls::optional_path", default)]
    pub ca_file: Option<PathBuf>,
}

fn default_key_prefix() -> String {
    "hookgate:".into()
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_deref().map(redact::url))
            .field("key_prefix", &self.key_prefix)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// `[admin]`: the admin API's bearer token, which also signs in to the console (`Debug`
/// says whether it is set, not what it is).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub token: Option<String>,
    /// Mark the console's session cookie `Secure` even when the admin listener speaks plain
    /// HTTP: behind a proxy that terminates TLS. Over `admin_tls` it always is.
    #[serde(deserialize_with = "env_value::bool", default)]
    pub secure_cookies: bool,
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("token", &redact::option(&self.token))
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

/// `[retention]`: how long delivered events are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    #[serde(deserialize_with = "env_value::number")]
    pub days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self { days: 30 }
    }
}

/// `[[sources]]`: one endpoint a third party posts to. `Debug` hides `secrets` and
/// `verify_token`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    #[serde(deserialize_with = "env_value::string")]
    pub id: String,
    #[serde(deserialize_with = "env_value::string")]
    pub provider: String,
    /// Any one may match; entries that expand to an empty string are ignored.
    #[serde(deserialize_with = "env_value::string_list", default)]
    pub secrets: Vec<String>,
    /// Where its events go: destination ids, or connection tables with their own filter.
    #[serde(default)]
    pub destinations: Vec<ConnectionConfig>,
    #[serde(deserialize_with = "env_value::optional_number", default)]
    pub tolerance_secs: Option<u64>,
    #[serde(default)]
    pub filter: Option<FilterConfig>,
    /// The URL the provider signs, for providers that sign it (Square, Twilio) when hookgate
    /// sits behind a proxy that rewrites it; by default the request's own URL.
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub public_url: Option<String>,
    /// The token Meta-style GET subscription handshakes must carry.
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub verify_token: Option<String>,
    /// URL prefixes signing certificates may be fetched from (AWS SNS, PayPal).
    #[serde(deserialize_with = "env_value::string_list", default)]
    pub allowed_cert_urls: Vec<String>,
    /// The only AWS SNS topic ARNs accepted.
    #[serde(deserialize_with = "env_value::string_list", default)]
    pub topic_arns: Vec<String>,
    /// Confirm AWS SNS subscriptions by fetching their SubscribeURL.
    #[serde(deserialize_with = "env_value::bool", default)]
    pub auto_confirm: bool,
    /// The provider's id of this webhook registration, which it signs (PayPal).
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub webhook_id: Option<String>,
    /// Where the generic `token` provider finds the token: a header (default `X-Webhook-Token`)…
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub token_header: Option<String>,
    /// …or a query parameter.
    #[serde(deserialize_with = "env_value::optional_string", default)]
    pub token_query: Option<String>,
}

impl fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceConfig")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("secrets", &redact::list(&self.secrets))
            .field("destinations", &self.destinations)
            .field("tolerance_secs", &self.tolerance_secs)
            .field("filter", &self.filter)
            .field("public_url", &self.public_url.as_deref().map(redact::url))
            .field("options", &self.options())
            .finish()
    }
}

impl SourceConfig {
    /// The provider-specific keys, as verification reads them.
    pub fn options(&self) -> crate::verify::SourceOptions {
        crate::verify::SourceOptions {
            verify_token: self.verify_token.clone(),
            allowed_cert_urls: self.allowed_cert_urls.clone(),
            topic_arns: self.topic_arns.clone(),
            auto_confirm: self.auto_confirm,
            webhook_id: self.webhook_id.clone(),
            token_header: self.token_header.clone(),
            token_query: self.token_query.clone(),
        }
    }
}

impl Config {
    /// Reads, interpolates and validates the config at `path` using the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with(path, UnsetEnv::Reject)
    }

    /// [`Config::load`], with a choice of what unset variables do.
    pub fn load_with(path: &Path, unset: UnsetEnv) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::parse_with(path, &text, Rc::new(|name| std::env::var(name).ok()), unset)
    }

    /// Parses config text, taking `${VAR}` values and the `DATABASE_URL`, `REDIS_URL` and
    /// `HOOKGATE_ADMIN_TOKEN` overrides from `env`, then validates it.
    pub fn parse(path: &Path, text: &str, env: EnvLookup) -> Result<Config, ConfigError> {
        Self::parse_with(path, text, env, UnsetEnv::Reject)
    }

    /// [`Config::parse`], with a choice of what unset variables do.
    pub fn parse_with(
        path: &Path,
        text: &str,
        env: EnvLookup,
        unset: UnsetEnv,
    ) -> Result<Config, ConfigError> {
        let parse_error = |err: toml::de::Error| ConfigError::Parse {
            path: path.to_owned(),
            message: toml_error(text, &err),
        };
        let document: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let unset_env = unset_env::find_unset(&document, &*env);
        let lookup = match unset {
            UnsetEnv::Reject if !unset_env.is_empty() => {
                return Err(ConfigError::UnsetEnv {
                    path: path.to_owned(),
                    unset: unset_env,
                });
            }
            UnsetEnv::Reject => env.clone(),
            UnsetEnv::Allow => blank_when_unset(env.clone()),
        };
        let mut config: Config =
            env_value::with_env(lookup, || toml::from_str(text)).map_err(parse_error)?;
        config.unset_env = unset_env;
        config.apply_overrides(&*env);
        config.resolve_paths(path);
        validate::validate(&config).map_err(|(key, message)| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            message,
        })?;
        Ok(config)
    }

    fn apply_overrides(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        let set = |name| env(name).filter(|value: &String| !value.is_empty());
        if let Some(url) = set("DATABASE_URL") {
            self.database.url = url;
        }
        if let Some(url) = set("REDIS_URL") {
            let redis = self.redis.get_or_insert_with(|| RedisConfig {
                url: None,
                key_prefix: default_key_prefix(),
                ca_file: None,
            });
            redis.url = Some(url);
        }
        if let Some(token) = set("HOOKGATE_ADMIN_TOKEN") {
            self.admin.token = Some(token);
        }
    }

    /// Relative paths (`providers_dir`, `transforms_dir`, TLS files) are looked up beside the config file
    /// first, then in the working directory.
    fn resolve_paths(&mut self, config_path: &Path) {
        let base = config_path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(providers_dir) = &self.server.providers_dir {
            let resolved = tls::beside_config(base, Path::new(providers_dir));
            self.server.providers_dir = Some(resolved.to_string_lossy().into_owned());
        }
        let transforms = tls::beside_config(base, Path::new(&self.server.transforms_dir));
        self.server.transforms_dir = transforms.to_string_lossy().into_owned();
        if let Some(redis_ca) = self.redis.as_mut().and_then(|redis| redis.ca_file.as_mut()) {
            *redis_ca = tls::beside_config(base, redis_ca);
        }
        for listener in [&mut self.server.tls, &mut self.server.admin_tls]
            .into_iter()
            .flatten()
        {
            listener.resolve_paths(base);
        }
        for destination in &mut self.destinations {
            destination.tls.resolve_paths(base);
        }
    }

    /// Whether `key` (or a key under it, such as one item of a list) took its value from an
    /// unset variable under [`UnsetEnv::Allow`]: its checks are then skipped.
    pub fn uses_unset_env(&self, key: &str) -> bool {
        self.unset_env.iter().any(|unset| {
            unset
                .key
                .strip_prefix(key)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    }

    /// The Redis URL, when Redis is configured.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis.as_ref().and_then(|redis| redis.url.as_deref())
    }

    /// The destination with this id.
    pub fn destination(&self, id: &str) -> Option<&DestinationConfig> {
        self.destinations.iter().find(|d| d.id == id)
    }
}

/// A TOML error as `line L, column C: message`. Not the error's own `Display`, which quotes the
/// line at fault: that line may hold a secret written into the file.
fn toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end();
    let Some(before) = err.span().and_then(|span| text.get(..span.start)) else {
        return message.to_owned();
    };
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    format!("line {line}, column {column}: {message}")
}

/// `env`, with every unset variable read as the empty string.
fn blank_when_unset(env: EnvLookup) -> EnvLookup {
    Rc::new(move |name| Some(env(name).unwrap_or_default()))
}

/// The config path from `--config`, else `HOOKGATE_CONFIG`, else [`DEFAULT_PATH`].
pub fn resolve_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("HOOKGATE_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
}

#[cfg(test)]
mod tests;
