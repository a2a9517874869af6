//! `hookgate events` and `hookgate replay` as a user runs them: against a running hookgate's
//! admin API with only its URL (`HOOKGATE_ADMIN_URL` or `--admin-url`) and
//! `HOOKGATE_ADMIN_TOKEN`, from a directory without a config file and without `DATABASE_URL`.

use crate::admin_lookup::{post_stripe_body, provider_id};
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Reply, Sink};
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

const WAIT: Duration = Duration::from_secs(15);
const DELIVERED_BILLING: &str =
    "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'delivered'";

/// `hookgate ARGS` with the admin URL `admin` and the token in the environment, in an empty
/// directory, with nothing else set that could stand in for them.
fn hookgate(admin: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookgate"));
    command
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("HOOKGATE_ADMIN_URL", admin)
        .env("HOOKGATE_ADMIN_TOKEN", ADMIN_TOKEN)
        .kill_on_drop(true);
    for name in ["HOOKGATE_CONFIG", "DATABASE_URL"] {
        command.env_remove(name);
    }
    command
}

/// Runs to the end: whether it succeeded, stdout, stderr.
async fn run(admin: &str, args: &[&str]) -> (bool, String, String) {
    let output = hookgate(admin, args).output().await.unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs and expects success; answers stdout.
async fn run_ok(admin: &str, args: &[&str]) -> String {
    let (ok, stdout, stderr) = run(admin, args).await;
    assert!(ok, "hookgate {args:?} failed: {stderr}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_list_finds_an_event_by_provider_id_as_a_table_and_as_json() {
    let app = spawn_app().await;
    let body = unique_body();
    let id = post_stripe_body(&app, &body).await;
    post_stripe_body(&app, &unique_body()).await;
    let provider = provider_id(&body);
    let admin = app.admin.as_str();

    let table = run_ok(admin, &["events", "list", "--provider-id", &provider]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "RECEIVED",
            "SOURCE",
            "PROVIDER EVENT ID",
            "TYPE",
            "DELIVERIES",
            "HOOKGATE ID"
        ]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[1..4], ["stripe", provider.as_str(), "invoice.paid"]);
    assert_eq!(row.last(), Some(&id.as_str()));
    assert!(row[0].ends_with('Z') && row[0].len() == 20, "{}", row[0]);
    assert_eq!(
        lines[1].find(&provider),
        lines[0].find("PROVIDER EVENT ID"),
        "columns align:\n{table}"
    );

    let json = run_ok(
        admin,
        &[
            "events",
            "list",
            "--json",
            "--provider-id",
            &provider,
            "--source",
            "stripe",
        ],
    )
    .await;
    let page: Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    assert_eq!(page["events"][0]["id"], id.as_str());
    assert_eq!(page["events"][0]["event_id"], provider.as_str());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_show_prints_the_attempts_and_accepts_a_provider_id() {
    let sink = Sink::start(vec![Reply::status(500)], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, "backoff_base_ms = 20\nbackoff_max_ms = 50"),
        ..Default::default()
    })
    .await;
    let body = unique_body();
    let id = post_stripe_body(&app, &body).await;
    app.wait_count(DELIVERED_BILLING, 1, WAIT).await;
    let admin = app.admin.as_str();

    let provider = provider_id(&body);
    let text = run_ok(admin, &["events", "show", &provider]).await;
    assert!(text.contains(&format!("hookgate id        {id}")), "{text}");
    assert!(
        text.contains("delivery to billing: delivered after 2 attempts"),
        "{text}"
    );
    let attempts: Vec<&str> = text
        .lines()
        .filter(|line| line.trim_start().starts_with(char::is_numeric))
        .collect();
    assert!(attempts.len() >= 2, "{text}");
    assert!(
        attempts[0].contains("#1") && attempts[0].contains("HTTP 500"),
        "{text}"
    );
    assert!(
        attempts[1].contains("#2") && attempts[1].contains("HTTP 200"),
        "{text}"
    );

    let json = run_ok(admin, &["events", "show", &id, "--json"]).await;
    let event: Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(event["event_id"], provider.as_str());

    // The same provider id from a second source: the user is asked which one.
    let headers = sign::paddle(secrets::PADDLE, body.as_bytes(), now());
    assert_eq!(
        app.post("paddle", &headers, body.clone()).await.status(),
        202
    );
    let (ok, _, stderr) = run(admin, &["events", "show", &provider]).await;
    assert!(!ok);
    assert!(
        stderr.contains("several sources") && stderr.contains("--source"),
        "{stderr}"
    );
    assert!(
        stderr.contains("paddle") && stderr.contains("stripe"),
        "{stderr}"
    );
    let text = run_ok(admin, &["events", "show", &provider, "--source", "stripe"]).await;
    assert!(text.contains(&id), "{text}");
    app.stop().await;
}

/// The next line a running command prints.
pub async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("a line within the wait")
        .unwrap()
        .expect("still running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_tail_prints_an_event_ingested_after_it_started() {
    let app = spawn_app().await;
    let before = unique_body();
    post_stripe_body(&app, &before).await;
    let mut tail = hookgate(
        &app.admin,
        &["events", "tail", "--source", "stripe", "--interval", "0.2"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    assert!(next_line(&mut lines).await.starts_with("RECEIVED"));

    let other_source = unique_body();
    let headers = sign::paddle(secrets::PADDLE, other_source.as_bytes(), now());
    assert_eq!(
        app.post("paddle", &headers, other_source).await.status(),
        202
    );
    let after = unique_body();
    let id = post_stripe_body(&app, &after).await;
    let line = next_line(&mut lines).await;
    assert!(
        line.contains(&provider_id(&after)) && line.ends_with(&id),
        "{line}"
    );
    tail.kill().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_event_needs_only_the_admin_url_and_the_token() {
    let sink = Sink::start(Vec::new(), Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let id = post_stripe_body(&app, &unique_body()).await;
    // The flag wins over the environment, which points where nothing listens.
    let stdout = run_ok(
        "http://127.0.0.1:9",
        &[
            "replay",
            "event",
            &id,
            "--destination",
            "billing",
            "--admin-url",
            &app.admin,
        ],
    )
    .await;
    let answer: Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(answer["deliveries"][0]["destination"], "billing");
    app.wait_count(DELIVERED_BILLING, 2, WAIT).await;

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_explain_a_refused_connection_and_print_api_errors_once() {
    let (ok, _, stderr) = run("http://127.0.0.1:9", &["events", "list"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("cannot connect to the admin API at http://127.0.0.1:9")
            && stderr.contains("hookgate serve")
            && stderr.contains("--admin-url"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("onnection refused").count(), 1, "{stderr}");

    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let (ok, _, stderr) = run(&app.admin, &["events", "show", &unknown]).await;
    assert!(!ok);
    assert_eq!(
        stderr.trim(),
        "error: admin API answered 404 Not Found: No such event"
    );
    let (ok, _, stderr) = run(&app.admin, &["replay", "status", "x"]).await;
    assert!(!ok && stderr.contains("404"), "{stderr}");
    let no_token = hookgate(&app.admin, &["events", "list"])
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(!no_token.status.success());
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("set HOOKGATE_ADMIN_TOKEN"));
    app.stop().await;
}
