//! The `hookgate` binary itself: check-config, sign, migrate, and a graceful SIGTERM.

use crate::helpers::*;
use crate::process::{ServeProcess, hookgate, temp_file};
use std::time::Duration;

/// Runs `hookgate check-config` on `text`: whether it passed, and everything it printed.
pub fn check_config(text: &str) -> (bool, String) {
    run_with_config("check-config", text)
}

/// Runs `hookgate COMMAND --config FILE` with `text` in FILE until it exits: whether it
/// succeeded, and everything it printed.
pub fn run_with_config(command: &str, text: &str) -> (bool, String) {
    let path = temp_file(text);
    let output = hookgate()
        .args([command, "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(path);
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn check_config_accepts_the_test_config_and_the_example() {
    let (ok, output) = check_config(&default_config_text("postgres://x@127.0.0.1/db"));
    assert!(ok, "{output}");
    assert!(
        output.contains("ok (9 sources, 2 destinations)"),
        "{output}"
    );
    let example = hookgate()
        .args(["check-config", "--config", "hookgate.example.toml"])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres")
        .output()
        .unwrap();
    assert!(
        example.status.success(),
        "{}",
        String::from_utf8_lossy(&example.stderr)
    );
}

#[test]
fn check_config_names_each_class_of_mistake_precisely() {
    let valid = default_config_text("postgres://x@127.0.0.1/db");
    let mistakes = [
        (
            valid.replacen("provider = \"github\"", "provider = \"githab\"", 1),
            r#"sources[1] ("github").provider: unknown provider "githab""#,
        ),
        (
            valid.replacen(
                "destinations = [\"billing\", \"ledger\"]",
                "destinations = [\"billing\", \"payroll\"]",
                1,
            ),
            r#"sources[0] ("stripe").destinations: unknown destination "payroll""#,
        ),
        (
            valid.replacen(
                "secrets = [\"It's a Secret to Everybody\"]",
                "secrets = [\"${UNSET_SECRET:-}\"]",
                1,
            ),
            r#"sources[1] ("github").secrets: no secret"#,
        ),
        (
            valid.replacen(
                "url = \"http://127.0.0.1:9/\"",
                "url = \"billing.internal\"",
                1,
            ),
            r#"destinations[0] ("billing").url: "billing.internal" is not a URL"#,
        ),
        (
            valid.replacen(
                "max_connections = 8",
                "max_connections = 8\npool_size = 3",
                1,
            ),
            "unknown field `pool_size`",
        ),
        (
            valid.replacen(
                "secrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]",
                "secrets = [\"${NO_SUCH_VARIABLE}\"]",
                1,
            ),
            "environment variable NO_SUCH_VARIABLE is not set",
        ),
        (
            valid.replacen(
                "secrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]",
                "secrets = [\"whsec_!!not base64!!\"]",
                1,
            ),
            r#"sources[4] ("standard-webhooks").secrets[0]"#,
        ),
    ];
    for (text, expected) in mistakes {
        let (ok, output) = check_config(&text);
        assert!(!ok, "accepted a config that should fail with {expected}");
        assert!(
            output.contains(expected),
            "expected {expected:?} in:\n{output}"
        );
    }
    let missing = hookgate()
        .args(["check-config", "--config", "/nonexistent/hookgate.toml"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("cannot read config file /nonexistent/hookgate.toml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_prints_headers_that_hookgate_accepts_for_every_provider() {
    let app = spawn_app().await;
    let json_body = temp_file(&unique_body());
    let form_body = temp_file("CallSid=CA123&From=%2B14158675310&Digits=42");
    let cases = [
        ("stripe", secrets::STRIPE, &json_body),
        ("github", secrets::GITHUB, &json_body),
        ("shopify", secrets::SHOPIFY, &json_body),
        ("slack", secrets::SLACK, &json_body),
        ("standard-webhooks", secrets::STANDARD, &json_body),
        ("razorpay", secrets::RAZORPAY, &json_body),
        ("paddle", secrets::PADDLE, &json_body),
        ("square", secrets::SQUARE, &json_body),
        ("twilio", secrets::TWILIO, &form_body),
    ];
    for (provider, secret, body_file) in cases {
        let url = app.webhook_url(provider);
        let output = hookgate()
            .args([
                "sign",
                "--provider",
                provider,
                "--secret",
                secret,
                "--url",
                &url,
                "--body",
            ])
            .arg(body_file)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{provider}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains("curl -i -X POST"), "{stdout}");
        let headers: Vec<(String, String)> = stdout
            .lines()
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_once(": "))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        let response = app
            .post(provider, &headers, std::fs::read(body_file).unwrap())
            .await;
        assert!(
            response.status().is_success(),
            "{provider}: {}",
            response.status()
        );
    }
    for file in [json_body, form_body] {
        let _ = std::fs::remove_file(file);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_migrates_answers_and_exits_zero_on_sigterm() {
    let database = create_database(&server_url()).await;
    let mut process = ServeProcess::start(&default_config_text(&database));
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('events', 'deliveries')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tables, 2, "serve applied the migrations");
    let health = http()
        .get(format!("{}/healthz", process.ingest))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    process.signal("TERM");
    let status = process.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");
    let rest = process.remaining_logs();
    assert!(
        rest.iter().any(|l| l.contains("hookgate stopped")),
        "{rest:?}"
    );
}

#[test]
fn migrate_applies_the_schema_and_is_idempotent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(create_database(&server_url()));
    let config = temp_file(&default_config_text(&database));
    for _ in 0..2 {
        let output = hookgate()
            .args(["migrate", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = std::fs::remove_file(config);
}
