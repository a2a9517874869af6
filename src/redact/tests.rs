use super::*;
use crate::cli::Cli;
use crate::config::Config;
use crate::delivery::signing::SigningKey;
use crate::store::Store;
use crate::verify::Provider;
use clap::Parser;
use std::path::Path;
use std::rc::Rc;

/// A value for every place a secret can be configured or passed, each findable in output.
const DATABASE_PASSWORD: &str = "pg-pass-0001";
const DATABASE_SSL_PASSWORD: &str = "pg-sslpass-0002";
const REDIS_PASSWORD: &str = "redis-pass-0003";
const ADMIN_TOKEN: &str = "admin-token-0004";
const SOURCE_SECRET: &str = "source-secret-0005";
const PREVIOUS_SECRET: &str = "source-secret-0006";
const VERIFY_TOKEN: &str = "verify-token-0007";
const SIGNING_SECRET: &str = "whsec_c2lnbmluZy0wMDA4";
const DESTINATION_PASSWORD: &str = "dest-pass-0009";

fn config() -> Config {
    let text = format!(
        r#"
[database]
url = "postgres://app:{DATABASE_PASSWORD}@db.internal:5432/hookgate?sslmode=require&sslpassword={DATABASE_SSL_PASSWORD}"

[redis]
url = "redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0"

[admin]
token = "{ADMIN_TOKEN}"

[[sources]]
id = "meta"
provider = "meta"
secrets = ["{SOURCE_SECRET}", "{PREVIOUS_SECRET}"]
verify_token = "{VERIFY_TOKEN}"
destinations = ["billing"]

[[destinations]]
id = "billing"
url = "https://hookgate:{DESTINATION_PASSWORD}@billing.internal/hooks"
signing_secret = "{SIGNING_SECRET}"
"#
    );
    Config::parse(Path::new("hookgate.toml"), &text, Rc::new(|_| None)).expect("valid config")
}

#[test]
fn urls_lose_their_passwords_and_password_parameters_and_nothing_else() {
    assert_eq!(
        url("postgres://app:pw@db:5432/hookgate?sslmode=require&password=a&sslpassword=b"),
        "postgres://app:redacted@db:5432/hookgate?sslmode=require&password=redacted&sslpassword=redacted"
    );
    assert_eq!(
        url("redis://:pw@127.0.0.1:6379/0"),
        "redis://:redacted@127.0.0.1:6379/0"
    );
    let plain = "http://billing.internal:9000/hooks?team=a";
    assert_eq!(url(plain), plain);
    assert_eq!(url("billing.internal/hooks"), "billing.internal/hooks");
    assert_eq!(url("hookgate:pw@billing.internal/hooks"), "<redacted>");
    assert_eq!(url("billing.internal/hooks?token=pw"), "<redacted>");
}

/// Every type that holds a configured secret, a decoded key or a secret argument, formatted
/// with `{:?}` and `{:#?}` as a log line, an error or a panic message would.
#[tokio::test]
async fn no_type_that_holds_a_secret_shows_it_in_debug_output() {
    let config = config();
    let github = Provider::parse("github", include_str!("../../providers/github.toml")).unwrap();
    let decoded = github.secret_key(SOURCE_SECRET).unwrap();
    let signing = SigningKey::parse(SIGNING_SECRET).unwrap();
    let store = Store::connect_lazy(&config.database.url, 1).unwrap();
    let command_lines: Vec<Cli> = [
        &["sign", "--provider", "github", "--secret", SOURCE_SECRET][..],
        &["events", "--token", ADMIN_TOKEN, "list"],
        &[
            "replay",
            "--token",
            ADMIN_TOKEN,
            "event",
            "0190a3c4-0000-7000-8000-000000000000",
        ],
    ]
    .into_iter()
    .map(|args| Cli::try_parse_from(std::iter::once("hookgate").chain(args.iter().copied())))
    .collect::<Result<_, _>>()
    .expect("valid command lines");
    let shown: Vec<String> = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{:?}", config.sources[0].options()),
        format!("{decoded:?}"),
        format!("{signing:?}"),
        format!("{store:?}"),
        format!("{command_lines:?}"),
        format!("{command_lines:#?}"),
    ]
    .into();
    for secret in [
        DATABASE_PASSWORD,
        DATABASE_SSL_PASSWORD,
        REDIS_PASSWORD,
        ADMIN_TOKEN,
        SOURCE_SECRET,
        PREVIOUS_SECRET,
        VERIFY_TOKEN,
        SIGNING_SECRET,
        &SIGNING_SECRET["whsec_".len()..],
        DESTINATION_PASSWORD,
    ] {
        for output in &shown {
            assert!(!output.contains(secret), "{secret} in {output}");
        }
    }
    // The outputs are real: the secrets' places are there, marked.
    let all = shown.join("\n");
    assert!(
        all.contains("db.internal") && all.contains("billing.internal"),
        "{all}"
    );
    assert!(all.matches("<redacted>").count() >= 8, "{all}");
}
