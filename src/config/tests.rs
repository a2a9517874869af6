use super::*;
use std::collections::HashMap;
use std::time::Duration;

const VALID: &str = r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:1"

[database]
url = "${DATABASE_URL}"
max_connections = "${POOL:-8}"

[admin]
token = "${HOOKGATE_ADMIN_TOKEN}"

[[sources]]
id = "stripe"
provider = "stripe"
secrets = ["${STRIPE_SECRET}", "${STRIPE_SECRET_PREVIOUS:-}"]
destinations = ["billing"]

[[destinations]]
id = "billing"
url = "http://billing.internal:9000/hooks"
"#;

fn env(pairs: &[(&str, &str)]) -> EnvLookup {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Rc::new(move |name| map.get(name).cloned())
}

fn base_env() -> EnvLookup {
    env(&[
        ("DATABASE_URL", "postgres://localhost/db"),
        ("HOOKGATE_ADMIN_TOKEN", "token"),
        ("STRIPE_SECRET", "whsec_abc"),
    ])
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("hookgate.toml"), text, base_env())
}

fn error_of(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn a_valid_config_is_interpolated_and_defaults_are_filled_in() {
    let config = parse(VALID).unwrap();
    assert_eq!(config.database.url, "postgres://localhost/db");
    assert_eq!(config.database.max_connections, 8);
    assert_eq!(config.sources[0].secrets, vec!["whsec_abc".to_string()]);
    assert_eq!(config.destinations[0].max_attempts, 15);
    assert_eq!(config.destinations[0].backoff_base_ms, 2000);
    assert_eq!(config.server.max_body_bytes, 1_048_576);
    assert_eq!(config.server.max_queue_wait_ms, 250);
    assert_eq!(config.server.commit_linger(), Duration::from_millis(2));
    assert_eq!(
        config.server.max_connections,
        SERVED_CONNECTIONS_PER_CPU * cpus()
    );
    assert_eq!(config.retention.days, 30);
    assert!(config.redis_url().is_none());
}

#[test]
fn environment_overrides_replace_file_values() {
    let text = VALID.replace("${DATABASE_URL}", "postgres://file/db");
    let lookup = env(&[
        ("DATABASE_URL", "postgres://env/db"),
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("HOOKGATE_ADMIN_TOKEN", "from-env"),
        ("STRIPE_SECRET", "whsec_abc"),
    ]);
    let config = Config::parse(Path::new("x.toml"), &text, lookup).unwrap();
    assert_eq!(config.database.url, "postgres://env/db");
    assert_eq!(config.redis_url(), Some("redis://127.0.0.1:6379"));
    assert_eq!(config.admin.token.as_deref(), Some("from-env"));
}

#[test]
fn every_unset_variable_is_reported_at_once_with_the_key_using_it() {
    let err = Config::parse(Path::new("hookgate.toml"), VALID, env(&[]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "hookgate.toml: \
         environment variable HOOKGATE_ADMIN_TOKEN is not set (used by admin.token); \
         environment variable DATABASE_URL is not set (used by database.url); \
         environment variable STRIPE_SECRET is not set (used by sources[0].secrets[0])"
    );
}

#[test]
fn allowing_unset_variables_reads_them_as_empty_and_skips_their_checks() {
    let config =
        Config::parse_with(Path::new("hookgate.toml"), VALID, env(&[]), UnsetEnv::Allow).unwrap();
    let unset: Vec<&str> = config.unset_env.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        unset,
        ["HOOKGATE_ADMIN_TOKEN", "DATABASE_URL", "STRIPE_SECRET"]
    );
    assert_eq!(config.database.url, "");
    assert!(config.sources[0].secrets.is_empty());
    assert_eq!(config.database.max_connections, 8, "defaults still apply");
    assert!(config.uses_unset_env("sources[0].secrets"));
    assert!(!config.uses_unset_env("sources[0].secret"));
    assert!(!config.uses_unset_env("destinations[0].url"));
}

#[test]
fn allowing_unset_variables_still_checks_everything_else() {
    let text = VALID.replace("http://billing.internal:9000/hooks", "billing.internal");
    let err = Config::parse_with(Path::new("x.toml"), &text, env(&[]), UnsetEnv::Allow)
        .unwrap_err()
        .to_string();
    assert!(err.contains("destinations[0] (\"billing\").url"), "{err}");
}

#[test]
fn unknown_keys_are_errors_not_silently_ignored() {
    let err = error_of(&VALID.replace("max_connections", "max_conections"));
    assert!(err.contains("unknown field `max_conections`"), "{err}");
}

#[test]
fn a_source_naming_an_unknown_destination_is_rejected() {
    let err = error_of(&VALID.replace(
        r#"destinations = ["billing"]"#,
        r#"destinations = ["ledger"]"#,
    ));
    assert!(
        err.contains(r#"sources[0] ("stripe").destinations: unknown destination "ledger""#),
        "{err}"
    );
}

#[test]
fn a_destination_with_a_bad_url_is_rejected() {
    let err = error_of(&VALID.replace("http://billing.internal:9000/hooks", "ftp://x"));
    assert!(err.contains(r#"destinations[0] ("billing").url"#), "{err}");
    let err = error_of(&VALID.replace("http://billing.internal:9000/hooks", "not a url"));
    assert!(err.contains("is not a URL"), "{err}");
}

#[test]
fn duplicate_ids_and_unsafe_ids_are_rejected() {
    let twice = format!("{VALID}\n[[destinations]]\nid = \"billing\"\nurl = \"http://x\"\n");
    assert!(error_of(&twice).contains(r#"destinations[1].id: duplicate id "billing""#));
    let err = error_of(&VALID.replace(r#"id = "stripe""#, r#"id = "str/ipe""#));
    assert!(err.contains("sources[0].id"), "{err}");
}

#[test]
fn a_missing_admin_token_and_a_bad_database_url_are_named() {
    let no_token = Config::parse(
        Path::new("h.toml"),
        VALID,
        env(&[
            ("DATABASE_URL", "postgres://x/y"),
            ("HOOKGATE_ADMIN_TOKEN", ""),
            ("STRIPE_SECRET", "s"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(no_token.contains("admin.token: not set"), "{no_token}");
    let err = Config::parse(
        Path::new("h.toml"),
        &VALID.replace("${DATABASE_URL}", "mysql://x"),
        env(&[("HOOKGATE_ADMIN_TOKEN", "t"), ("STRIPE_SECRET", "s")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("database.url: must start with postgres://"),
        "{err}"
    );
}

#[test]
fn numbers_out_of_range_or_not_numbers_are_rejected() {
    let err = error_of(&VALID.replace(r#""${POOL:-8}""#, "-3"));
    assert!(err.contains("must not be negative"), "{err}");
    let err = error_of(&VALID.replace("${POOL:-8}", "many"));
    assert!(
        err.contains(r#""many" is not a non-negative integer"#),
        "{err}"
    );
}

#[test]
fn listen_addresses_must_be_host_and_port_and_distinct() {
    let err = error_of(&VALID.replace("127.0.0.1:0", "8080"));
    assert!(err.contains("server.listen"), "{err}");
    let err = error_of(&VALID.replace("127.0.0.1:0", "127.0.0.1:1"));
    assert!(err.contains("server.admin_listen: must differ"), "{err}");
}

#[test]
fn the_admin_listener_defaults_to_loopback() {
    let without_admin_listen = VALID.replace("admin_listen = \"127.0.0.1:1\"\n", "");
    let without_server = without_admin_listen.replace("[server]\nlisten = \"127.0.0.1:0\"\n", "");
    assert!(!without_server.contains("[server]"), "{without_server}");
    for text in [&without_admin_listen, &without_server] {
        let server = parse(text).unwrap().server;
        let admin: std::net::SocketAddr = server.admin_listen.parse().unwrap();
        assert!(admin.ip().is_loopback(), "admin listens on {admin}");
        assert_eq!(admin.port(), 8081);
    }
}

#[test]
fn backoff_cap_below_base_is_rejected() {
    let text = VALID.replace(
        "url = \"http://billing.internal:9000/hooks\"",
        "url = \"http://billing.internal:9000/hooks\"\nbackoff_base_ms = 5000\nbackoff_max_ms = 100",
    );
    assert!(error_of(&text).contains("backoff_max_ms: must not be less than backoff_base_ms"));
}

/// The valid config with `key = value` added to `[server]`.
fn with_server_key(key: &str, value: &str) -> String {
    VALID.replace(
        "admin_listen = \"127.0.0.1:1\"",
        &format!("admin_listen = \"127.0.0.1:1\"\n{key} = {value}"),
    )
}

#[test]
fn commit_linger_is_at_most_half_the_queue_wait() {
    let with = |value: &str| with_server_key("commit_linger_ms", value);
    let linger = |text: &str| parse(text).unwrap().server.commit_linger();
    assert_eq!(linger(&with("0")), Duration::ZERO);
    assert_eq!(linger(&with("125")), Duration::from_millis(125));
    // Unset, the default gives way to a short queue wait rather than failing the config.
    let short_wait = with_server_key("max_queue_wait_ms", "3");
    assert_eq!(linger(&short_wait), Duration::from_millis(1));
    let err = error_of(&with("126"));
    assert!(
        err.contains("server.commit_linger_ms: must be at most half of max_queue_wait_ms (125)"),
        "{err}"
    );
}

#[test]
fn max_queue_wait_is_read_from_a_number_or_a_variable_and_must_be_positive() {
    let with = |value: &str| with_server_key("max_queue_wait_ms", value);
    assert_eq!(parse(&with("100")).unwrap().server.max_queue_wait_ms, 100);
    assert_eq!(
        parse(&with(r#""${QUEUE_WAIT:-40}""#))
            .unwrap()
            .server
            .max_queue_wait_ms,
        40
    );
    let err = error_of(&with("0"));
    assert!(
        err.contains("server.max_queue_wait_ms: must be at least 1"),
        "{err}"
    );
    let err = error_of(&with("-5"));
    assert!(err.contains("must not be negative"), "{err}");
}

#[test]
fn max_connections_must_be_positive() {
    let with = |value: &str| with_server_key("max_connections", value);
    assert_eq!(parse(&with("64")).unwrap().server.max_connections, 64);
    let err = error_of(&with("0"));
    assert!(
        err.contains("server.max_connections: must be at least 1"),
        "{err}"
    );
}

#[test]
fn keep_alive_defaults_to_five_seconds_and_must_be_positive() {
    assert_eq!(parse(VALID).unwrap().server.keep_alive_ms, 5_000);
    let with = |value: &str| with_server_key("keep_alive_ms", value);
    assert_eq!(parse(&with("75000")).unwrap().server.keep_alive_ms, 75_000);
    let err = error_of(&with("0"));
    assert!(
        err.contains("server.keep_alive_ms: must be at least 1"),
        "{err}"
    );
}

#[test]
fn bodies_go_up_to_25_mib_within_an_in_flight_budget_that_holds_one() {
    let defaults = parse(VALID).unwrap().server;
    assert_eq!(defaults.max_inflight_body_bytes, 256 * 1024 * 1024);
    let largest = with_server_key("max_body_bytes", "26214400");
    assert_eq!(parse(&largest).unwrap().server.max_body_bytes, 26_214_400);
    let err = error_of(&with_server_key("max_body_bytes", "26214401"));
    assert!(
        err.contains("server.max_body_bytes: must be at most 26214400"),
        "{err}"
    );
    let small_budget = with_server_key("max_inflight_body_bytes", "1000");
    let err = error_of(&small_budget);
    assert!(
        err.contains("server.max_inflight_body_bytes: must be at least max_body_bytes"),
        "{err}"
    );
    let huge_budget = with_server_key("max_inflight_body_bytes", "5000000000");
    assert!(error_of(&huge_budget).contains("must be at most 4294967295"));
}

#[test]
fn a_destination_circuit_is_read_checked_and_defaults_to_five_failures_and_thirty_seconds() {
    let with = |circuit: &str| {
        VALID.replace(
            "url = \"http://billing.internal:9000/hooks\"",
            &format!("url = \"http://billing.internal:9000/hooks\"\ncircuit = {circuit}"),
        )
    };
    let default = &parse(VALID).unwrap().destinations[0].circuit;
    assert_eq!(
        (
            default.failure_threshold,
            default.cool_down_ms,
            default.max_cool_down_ms
        ),
        (5, 30_000, 300_000)
    );
    let set = &parse(&with("{ failure_threshold = 3, cool_down_ms = 1000 }"))
        .unwrap()
        .destinations[0]
        .circuit;
    assert_eq!(
        (
            set.failure_threshold,
            set.cool_down_ms,
            set.max_cool_down_ms
        ),
        (3, 1_000, 300_000)
    );
    for (circuit, expected) in [
        (
            "{ failure_threshold = 0 }",
            "circuit.failure_threshold: must be at least 1",
        ),
        (
            "{ cool_down_ms = 0 }",
            "circuit.cool_down_ms: must be at least 1",
        ),
        (
            "{ cool_down_ms = 9000, max_cool_down_ms = 10 }",
            "circuit.max_cool_down_ms: must not be less than cool_down_ms",
        ),
        ("{ cooldown = 5 }", "cooldown"),
    ] {
        let err = error_of(&with(circuit));
        assert!(err.contains(expected), "{circuit}: {err}");
    }
}

#[test]
fn a_syntax_error_names_line_and_column_without_quoting_the_line() {
    let text = VALID.replace(
        r#"token = "${HOOKGATE_ADMIN_TOKEN}""#,
        r#"token = "literal-admin-token" oops"#,
    );
    let err = error_of(&text);
    assert!(
        err.starts_with("hookgate.toml: line 11, column 31: "),
        "{err}"
    );
    assert!(!err.contains("literal-admin-token"), "{err}");
}

#[test]
fn a_bad_destination_url_is_shown_without_its_password() {
    let text = VALID.replace(
        "http://billing.internal:9000/hooks",
        "ftp://hookgate:url-password@billing.internal/hooks",
    );
    let err = error_of(&text);
    assert!(err.contains("must be an http:// or https:// URL"), "{err}");
    assert!(!err.contains("url-password"), "{err}");
}

/// [`VALID`] with a pull destination `jobs` of these extra lines.
fn with_pull_destination(lines: &str) -> String {
    format!("{VALID}\n[[destinations]]\nid = \"jobs\"\nkind = \"pull\"\n{lines}\n")
}

#[test]
fn a_pull_destination_takes_its_consumer_tokens_from_the_environment_and_hides_them() {
    let text = with_pull_destination(r#"consumer_tokens = ["${JOBS_TOKEN}", "${JOBS_OLD:-}"]"#);
    let env = env(&[
        ("DATABASE_URL", "postgres://localhost/db"),
        ("HOOKGATE_ADMIN_TOKEN", "token"),
        ("STRIPE_SECRET", "whsec_abc"),
        ("JOBS_TOKEN", "consumer-secret-1"),
    ]);
    let config = Config::parse(Path::new("hookgate.toml"), &text, env).unwrap();
    let jobs = config.destination("jobs").unwrap();
    assert!(jobs.is_pull() && !config.destinations[0].is_pull());
    assert_eq!(jobs.consumer_tokens, ["consumer-secret-1"]);
    assert!(jobs.url.is_empty());
    let shown = format!("{config:?}");
    assert!(!shown.contains("consumer-secret-1"), "{shown}");
    assert!(shown.contains("kind: Pull"), "{shown}");
}

#[test]
fn a_pull_destination_needs_tokens_and_no_url_and_an_http_one_no_tokens() {
    let err = error_of(&with_pull_destination(""));
    assert!(
        err.contains(r#"destinations[1] ("jobs").consumer_tokens: not set"#),
        "{err}"
    );
    let err = error_of(&with_pull_destination(
        "consumer_tokens = [\"t\"]\nurl = \"http://jobs.internal/\"",
    ));
    assert!(
        err.contains(r#"destinations[1] ("jobs").url: a pull destination has no url"#),
        "{err}"
    );
    let err = error_of(&with_pull_destination(
        "consumer_tokens = [\"t\"]\nsigning_secret = \"whsec_abc\"",
    ));
    assert!(err.contains(r#"("jobs").signing_secret: a pull"#), "{err}");
    let err = error_of(&with_pull_destination("consumer_tokens = [\"token\"]"));
    assert!(err.contains("must differ from admin.token"), "{err}");
    let http_with_tokens = VALID.replace(
        "url = \"http://billing.internal:9000/hooks\"",
        "url = \"http://billing.internal:9000/hooks\"\nconsumer_tokens = [\"t\"]",
    );
    let err = error_of(&http_with_tokens);
    assert!(
        err.contains(
            r#"destinations[0] ("billing").consumer_tokens: applies only to kind = "pull""#
        ),
        "{err}"
    );
    let unknown_kind =
        with_pull_destination("consumer_tokens = [\"t\"]").replace("\"pull\"", "\"ftp\"");
    let err = error_of(&unknown_kind);
    assert!(err.contains("unknown variant `ftp`"), "{err}");
}

#[test]
fn a_redis_stream_destination_needs_a_redis_url_and_a_stream() {
    let with = |lines: &str| {
        format!("{VALID}\n[[destinations]]\nid = \"events\"\nkind = \"redis-stream\"\n{lines}\n")
    };
    let config = parse(&with(
        "url = \"redis://cache:6379/0\"\nstream = \"webhooks\"\nmaxlen = 100000",
    ))
    .unwrap();
    let events = &config.destinations[1];
    assert_eq!(
        (events.stream.as_deref(), events.maxlen),
        (Some("webhooks"), Some(100_000))
    );
    let cases = [
        ("url = \"redis://cache\"", r#"("events").stream: not set"#),
        (
            "url = \"http://cache\"\nstream = \"s\"",
            "must start with redis:// or rediss://",
        ),
        (
            "url = \"redis://cache\"\nstream = \"s\"\nmaxlen = 0",
            "maxlen: must be at least 1",
        ),
        (
            "url = \"redis://cache\"\nstream = \"s\"\nsigning_secret = \"whsec_abc\"",
            "signing_secret: applies only to http",
        ),
    ];
    for (lines, expected) in cases {
        let err = error_of(&with(lines));
        assert!(err.contains(expected), "{lines}: {err}");
    }
    let http_with_stream = VALID.replace(
        "url = \"http://billing.internal:9000/hooks\"",
        "url = \"http://billing.internal:9000/hooks\"\nstream = \"s\"",
    );
    let err = error_of(&http_with_stream);
    assert!(
        err.contains(r#"("billing").stream: applies only to kind = "redis-stream""#),
        "{err}"
    );
}

#[test]
fn a_nats_destination_needs_a_nats_url_and_a_subject() {
    let with = |lines: &str| {
        format!("{VALID}\n[[destinations]]\nid = \"bus\"\nkind = \"nats\"\n{lines}\n")
    };
    let config = parse(&with(
        "url = \"nats://bus:4222\"\nsubject = \"hooks.github\"",
    ))
    .unwrap();
    assert_eq!(
        config.destinations[1].subject.as_deref(),
        Some("hooks.github")
    );
    let err = error_of(&with("url = \"nats://bus:4222\""));
    assert!(err.contains(r#"("bus").subject: not set"#), "{err}");
    let err = error_of(&with("url = \"redis://bus\"\nsubject = \"s\""));
    assert!(err.contains("must start with nats:// or tls://"), "{err}");
    let err = error_of(&with(
        "url = \"nats://bus\"\nsubject = \"s\"\nstream = \"x\"",
    ));
    assert!(
        err.contains(r#"("bus").stream: applies only to kind = "redis-stream""#),
        "{err}"
    );
}

#[test]
fn an_amqp_destination_needs_an_amqp_url_and_an_exchange() {
    let with = |lines: &str| {
        format!("{VALID}\n[[destinations]]\nid = \"rabbit\"\nkind = \"amqp\"\n{lines}\n")
    };
    let url = "url = \"amqp://hookgate:pw@rabbit:5672/%2f\"";
    let config = parse(&with(&format!(
        "{url}\nexchange = \"billing\"\nrouting_key = \"invoices\""
    )))
    .unwrap();
    let rabbit = &config.destinations[1];
    assert_eq!(
        (rabbit.exchange.as_deref(), rabbit.routing_key.as_deref()),
        (Some("billing"), Some("invoices"))
    );
    assert!(!format!("{rabbit:?}").contains("pw"), "{rabbit:?}");
    // Without an exchange, RabbitMQ's default one routes by queue name: the routing key.
    let queue = parse(&with(&format!("{url}\nrouting_key = \"invoices\""))).unwrap();
    assert_eq!(queue.destinations[1].exchange, None);
    let err = error_of(&with(url));
    assert!(err.contains(r#"("rabbit").routing_key: not set"#), "{err}");
    let err = error_of(&with("url = \"http://rabbit\"\nexchange = \"e\""));
    assert!(err.contains("must start with amqp:// or amqps://"), "{err}");
    let err = error_of(&with(&format!("{url}\nexchange = \"e\"\nsubject = \"s\"")));
    assert!(
        err.contains(r#"("rabbit").subject: applies only to kind = "nats""#),
        "{err}"
    );
    let nats_with_exchange = "url = \"nats://bus\"\nsubject = \"s\"\nexchange = \"e\"";
    let err = error_of(&with(nats_with_exchange).replace("\"amqp\"", "\"nats\""));
    assert!(
        err.contains(r#"("rabbit").exchange: applies only to kind = "amqp""#),
        "{err}"
    );
}

#[test]
fn ordering_takes_a_pointer_or_source_and_on_dead_defaults_to_block() {
    let ordered = |ordering: &str| {
        let text = with_pull_destination(&format!("consumer_tokens = [\"t\"]\n{ordering}"));
        parse(&text).map(|config| {
            let jobs = config.destination("jobs").unwrap();
            (jobs.ordering.clone(), jobs.dead_head_blocks())
        })
    };
    let (ordering, blocks) = ordered(r#"ordering = { key = "/data/object/customer" }"#).unwrap();
    assert_eq!(ordering.unwrap().on_dead, OnDead::Block);
    assert!(blocks);
    let (_, blocks) = ordered(r#"ordering = { key = "source", on_dead = "skip" }"#).unwrap();
    assert!(!blocks);
    let (ordering, blocks) = ordered("").unwrap();
    assert!(ordering.is_none() && !blocks);
}

#[test]
fn ordering_refuses_a_key_that_is_neither_a_pointer_nor_source() {
    let err = error_of(&with_pull_destination(
        "consumer_tokens = [\"t\"]\nordering = { key = \"data.customer\" }",
    ));
    assert!(
        err.contains(
            r#"destinations[1] ("jobs").ordering.key: pointer "data.customer" must start with `/`"#
        ),
        "{err}"
    );
    let err = error_of(&with_pull_destination(
        "consumer_tokens = [\"t\"]\nordering = { key = \"/a\", on_dead = \"retry\" }",
    ));
    assert!(err.contains("on_dead") || err.contains("retry"), "{err}");
}
