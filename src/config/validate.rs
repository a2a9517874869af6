//! Checks that need the whole config: addresses, URLs, references between sections, ranges.
//! A key whose value came from an unset variable (`check-config --allow-unset-env`) is not
//! checked: its real value is not known.

use super::{Config, DestinationConfig, DestinationKind, FilterConfig, SourceConfig};
use crate::ingest::body_budget;
use crate::routes::{ContentFilter, OrderingKey};

/// The largest `max_body_bytes`: GitHub's 25 MiB, the largest of the providers.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
use std::collections::HashSet;
use std::net::SocketAddr;

/// The key at fault and why.
pub type Invalid = (String, String);

/// Validates everything that can be checked without the provider files.
pub fn validate(config: &Config) -> Result<(), Invalid> {
    validate_server(config)?;
    validate_storage(config)?;
    if config.admin.token.is_none() && !config.uses_unset_env("admin.token") {
        return invalid(
            "admin.token",
            "not set: give the admin API a bearer token (or set HOOKGATE_ADMIN_TOKEN)",
        );
    }
    if config.retention.days == 0 {
        return invalid("retention.days", "must be at least 1");
    }
    let destination_ids = unique_ids(
        config.destinations.iter().map(|d| d.id.as_str()),
        "destinations",
    )?;
    for (index, destination) in config.destinations.iter().enumerate() {
        validate_destination(config, index, destination)?;
    }
    unique_ids(config.sources.iter().map(|s| s.id.as_str()), "sources")?;
    for (index, source) in config.sources.iter().enumerate() {
        validate_source(index, source, &destination_ids)?;
    }
    Ok(())
}

fn invalid<T>(key: impl Into<String>, message: impl Into<String>) -> Result<T, Invalid> {
    Err((key.into(), message.into()))
}

fn validate_server(config: &Config) -> Result<(), Invalid> {
    let server = &config.server;
    for (key, value) in [
        ("server.listen", &server.listen),
        ("server.admin_listen", &server.admin_listen),
    ] {
        if !config.uses_unset_env(key) {
            parse_listen(value).map_err(|m| (key.into(), m))?;
        }
    }
    if server.listen == server.admin_listen && !server.listen.ends_with(":0") {
        return invalid(
            "server.admin_listen",
            "must differ from server.listen: the admin API never shares the public port",
        );
    }
    if server.max_body_bytes == 0 {
        return invalid("server.max_body_bytes", "must be at least 1");
    }
    if server.max_body_bytes > MAX_BODY_BYTES {
        return invalid(
            "server.max_body_bytes",
            format!(
                "must be at most {MAX_BODY_BYTES} (25 MiB, the largest webhook a provider sends)"
            ),
        );
    }
    if server.transform_timeout_ms == 0 {
        return invalid("server.transform_timeout_ms", "must be at least 1");
    }
    if !(1..=4096).contains(&server.transform_memory_mb) {
        return invalid("server.transform_memory_mb", "must be from 1 to 4096");
    }
    if server.max_inflight_body_bytes < server.max_body_bytes {
        return invalid(
            "server.max_inflight_body_bytes",
            "must be at least max_body_bytes, or a body of the largest size could never be accepted",
        );
    }
    if server.max_inflight_body_bytes > body_budget::MAX_BUDGET {
        return invalid(
            "server.max_inflight_body_bytes",
            format!("must be at most {} (4 GiB)", body_budget::MAX_BUDGET),
        );
    }
    if server.max_queue_wait_ms == 0 {
        return invalid("server.max_queue_wait_ms", "must be at least 1");
    }
    // A lingering event waits in the commit queue, which admission keeps within half of
    // max_queue_wait_ms.
    if let Some(linger) = server.commit_linger_ms
        && linger > server.max_queue_wait_ms / 2
    {
        return invalid(
            "server.commit_linger_ms",
            format!(
                "must be at most half of max_queue_wait_ms ({})",
                server.max_queue_wait_ms / 2
            ),
        );
    }
    if server.max_connections == 0 {
        return invalid("server.max_connections", "must be at least 1");
    }
    if server.request_timeout_ms == 0 {
        return invalid("server.request_timeout_ms", "must be at least 1");
    }
    if server.keep_alive_ms == 0 {
        return invalid("server.keep_alive_ms", "must be at least 1");
    }
    Ok(())
}

/// Accepts `IP:PORT` and `HOST:PORT`.
fn parse_listen(value: &str) -> Result<(), String> {
    if value.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(format!("{value:?} is not an address of the form HOST:PORT")),
    }
}

fn validate_storage(config: &Config) -> Result<(), Invalid> {
    if !config.uses_unset_env("database.url") {
        check_database_url(&config.database.url)?;
    }
    if config.database.max_connections == 0 {
        return invalid("database.max_connections", "must be at least 1");
    }
    if let Some(url) = config.redis_url() {
        let scheme_ok = ["redis://", "rediss://", "unix://", "redis+unix://"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !scheme_ok {
            return invalid(
                "redis.url",
                "must start with redis://, rediss:// or unix://",
            );
        }
    }
    let redis_ca = config
        .redis
        .as_ref()
        .and_then(|redis| redis.ca_file.as_ref());
    if redis_ca.is_some()
        && !config
            .redis_url()
            .is_some_and(|url| url.starts_with("rediss://"))
    {
        return invalid("redis.ca_file", "applies only to a rediss:// url");
    }
    Ok(())
}

fn check_database_url(url: &str) -> Result<(), Invalid> {
    if url.is_empty() {
        return invalid("database.url", "not set (set it or DATABASE_URL)");
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return invalid(
            "database.url",
            "must start with postgres:// or postgresql://",
        );
    }
    Ok(())
}

/// Ids appear in URL paths and metrics labels: keep them to a safe alphabet.
fn check_id(key: &str, id: &str) -> Result<(), Invalid> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        invalid(
            key,
            format!("{id:?} must be 1-64 characters of letters, digits, '-', '_' or '.'"),
        )
    }
}

fn unique_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    section: &str,
) -> Result<HashSet<&'a str>, Invalid> {
    let mut seen = HashSet::new();
    for (index, id) in ids.enumerate() {
        check_id(&format!("{section}[{index}].id"), id)?;
        if !seen.insert(id) {
            return invalid(
                format!("{section}[{index}].id"),
                format!("duplicate id {id:?}"),
            );
        }
    }
    Ok(seen)
}

fn validate_source(
    index: usize,
    source: &SourceConfig,
    destination_ids: &HashSet<&str>,
) -> Result<(), Invalid> {
    let key = |field: &str| format!("sources[{index}] ({:?}).{field}", source.id);
    if source.provider.is_empty() {
        return invalid(key("provider"), "must name a provider file");
    }
    let mut connected = HashSet::new();
    for (i, connection) in source.destinations.iter().enumerate() {
        let id = &connection.id;
        if !destination_ids.contains(id.as_str()) {
            return invalid(
                key("destinations"),
                format!("unknown destination {id:?} (no [[destinations]] with that id)"),
            );
        }
        if !connected.insert(id) {
            return invalid(
                key("destinations"),
                format!("{id:?} is listed twice: one connection per destination"),
            );
        }
        if let Some(filter) = &connection.filter {
            check_filter(filter, &key(&format!("destinations[{i}] ({id:?}).filter")))?;
        }
        if let Some(name) = &connection.transform {
            // The name is a file name under transforms_dir: the id alphabet keeps it there.
            check_id(&key(&format!("destinations[{i}] ({id:?}).transform")), name)?;
        }
    }
    if let Some(filter) = &source.filter {
        check_filter(filter, &key("filter"))?;
    }
    if let Some(url) = &source.public_url {
        check_http_url(url).map_err(|m| (key("public_url"), m))?;
        if url.contains(['?', '#']) {
            return invalid(
                key("public_url"),
                "must not have a query or fragment: the query each request carries is appended",
            );
        }
    }
    Ok(())
}

/// Compiles a filter to find what is wrong with it; `key` names the filter.
fn check_filter(filter: &FilterConfig, key: &str) -> Result<(), Invalid> {
    ContentFilter::compile(filter)
        .map(drop)
        .map_err(|(field, why)| match field.is_empty() {
            true => (key.to_owned(), why),
            false => (format!("{key}.{field}"), why),
        })
}

fn validate_destination(
    config: &Config,
    index: usize,
    destination: &DestinationConfig,
) -> Result<(), Invalid> {
    let key = |field: &str| format!("destinations[{index}] ({:?}).{field}", destination.id);
    let url_known = !config.uses_unset_env(&format!("destinations[{index}].url"));
    match destination.kind {
        DestinationKind::Pull => validate_pull_destination(config, index, destination)?,
        DestinationKind::Http if url_known => {
            check_http_url(&destination.url).map_err(|m| (key("url"), m))?
        }
        DestinationKind::Http => {}
        DestinationKind::RedisStream => {
            let stream = ("stream", destination.stream.as_deref());
            validate_broker(destination, url_known, &key, &["redis", "rediss"], stream)?
        }
        DestinationKind::Nats => {
            let subject = ("subject", destination.subject.as_deref());
            validate_broker(destination, url_known, &key, &["nats", "tls"], subject)?
        }
        DestinationKind::Amqp => validate_amqp(destination, url_known, &key)?,
    }
    if !destination.is_pull() && !destination.consumer_tokens.is_empty() {
        return invalid(
            key("consumer_tokens"),
            "applies only to kind = \"pull\": this destination's deliveries are pushed",
        );
    }
    let kind_only = [
        (
            "stream",
            destination.stream.is_some(),
            DestinationKind::RedisStream,
            "redis-stream",
        ),
        (
            "maxlen",
            destination.maxlen.is_some(),
            DestinationKind::RedisStream,
            "redis-stream",
        ),
        (
            "subject",
            destination.subject.is_some(),
            DestinationKind::Nats,
            "nats",
        ),
        (
            "exchange",
            destination.exchange.is_some(),
            DestinationKind::Amqp,
            "amqp",
        ),
        (
            "routing_key",
            destination.routing_key.is_some(),
            DestinationKind::Amqp,
            "amqp",
        ),
    ];
    for (field, set, kind, name) in kind_only {
        if set && destination.kind != kind {
            return invalid(key(field), format!("applies only to kind = \"{name}\""));
        }
    }
    if let Some(ordering) = &destination.ordering
        && !config.uses_unset_env(&format!("destinations[{index}].ordering.key"))
    {
        OrderingKey::compile(ordering).map_err(|m| (key("ordering.key"), m))?;
    }
    if destination.timeout_ms == 0 {
        return invalid(key("timeout_ms"), "must be at least 1");
    }
    if destination.max_attempts == 0 {
        return invalid(key("max_attempts"), "must be at least 1");
    }
    if destination.backoff_base_ms == 0 {
        return invalid(key("backoff_base_ms"), "must be at least 1");
    }
    if destination.backoff_max_ms < destination.backoff_base_ms {
        return invalid(
            key("backoff_max_ms"),
            "must not be less than backoff_base_ms",
        );
    }
    if destination.concurrency == 0 {
        return invalid(key("concurrency"), "must be at least 1");
    }
    if destination.rate_limit_per_sec == Some(0) {
        return invalid(
            key("rate_limit_per_sec"),
            "must be at least 1 (or left out)",
        );
    }
    let circuit = &destination.circuit;
    if circuit.failure_threshold == 0 {
        return invalid(key("circuit.failure_threshold"), "must be at least 1");
    }
    if circuit.cool_down_ms == 0 {
        return invalid(key("circuit.cool_down_ms"), "must be at least 1");
    }
    if circuit.max_cool_down_ms < circuit.cool_down_ms {
        return invalid(
            key("circuit.max_cool_down_ms"),
            "must not be less than cool_down_ms",
        );
    }
    Ok(())
}

/// A broker destination: a URL of one of `schemes` and the `(key, value)` it publishes to (a
/// Redis stream, a NATS subject); no Standard Webhooks signature (its readers are inside).
fn validate_broker(
    destination: &DestinationConfig,
    url_known: bool,
    key: &dyn Fn(&str) -> String,
    schemes: &[&str],
    (target, named): (&str, Option<&str>),
) -> Result<(), Invalid> {
    if url_known {
        let shown = crate::redact::url(&destination.url);
        let scheme = url::Url::parse(&destination.url).map(|url| url.scheme().to_owned());
        if !scheme.is_ok_and(|scheme| schemes.contains(&scheme.as_str())) {
            let schemes: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
            return invalid(
                key("url"),
                format!("{shown:?} must start with {}", schemes.join(" or ")),
            );
        }
    }
    if named.is_none_or(str::is_empty) {
        return invalid(
            key(target),
            format!("not set: name the {target} deliveries go to"),
        );
    }
    if destination.maxlen == Some(0) {
        return invalid(key("maxlen"), "must be at least 1 (or left out)");
    }
    if destination.signing_secret.is_some() {
        return invalid(
            key("signing_secret"),
            "applies only to http destinations (Standard Webhooks signs HTTP requests)",
        );
    }
    Ok(())
}

/// An AMQP destination publishes to `exchange`, or without one to RabbitMQ's default exchange,
/// which routes by queue name: then `routing_key` names the queue and must be set.
fn validate_amqp(
    destination: &DestinationConfig,
    url_known: bool,
    key: &dyn Fn(&str) -> String,
) -> Result<(), Invalid> {
    let named = match destination.exchange.as_deref() {
        Some(exchange) => ("exchange", Some(exchange)),
        None => ("routing_key", destination.routing_key.as_deref()),
    };
    validate_broker(destination, url_known, key, &["amqp", "amqps"], named)
}

/// A pull destination has consumers (with tokens of their own) instead of a URL, and none of
/// the settings that only shape a push.
fn validate_pull_destination(
    config: &Config,
    index: usize,
    destination: &DestinationConfig,
) -> Result<(), Invalid> {
    let key = |field: &str| format!("destinations[{index}] ({:?}).{field}", destination.id);
    let pushed_only = [
        ("url", !destination.url.is_empty()),
        ("signing_secret", destination.signing_secret.is_some()),
        (
            "rate_limit_per_sec",
            destination.rate_limit_per_sec.is_some(),
        ),
    ];
    if let Some((field, _)) = pushed_only.iter().find(|(_, set)| *set) {
        return invalid(
            key(field),
            format!(
                "a pull destination has no {field}: its consumers lease deliveries from \
                 /consume/{}/lease",
                destination.id
            ),
        );
    }
    let tokens_key = format!("destinations[{index}].consumer_tokens");
    if destination.consumer_tokens.is_empty() && !config.uses_unset_env(&tokens_key) {
        return invalid(
            key("consumer_tokens"),
            "not set: a pull destination needs at least one consumer token",
        );
    }
    if let Some(admin) = &config.admin.token
        && destination.consumer_tokens.contains(admin)
    {
        return invalid(
            key("consumer_tokens"),
            "must differ from admin.token: a consumer token opens only /consume",
        );
    }
    Ok(())
}

/// Checks an http(s) URL; the error shows the URL without its credentials.
fn check_http_url(value: &str) -> Result<(), String> {
    let shown = crate::redact::url(value);
    let url = url::Url::parse(value).map_err(|err| format!("{shown:?} is not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{shown:?} must be an http:// or https:// URL with a host"
        ));
    }
    Ok(())
}
