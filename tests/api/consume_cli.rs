//! `hookgate consume` as a user runs it against a pull destination (`ledger`): a shell command
//! per message, or forwarding to a local server, acking what succeeded and nacking the rest
//! (retried after the destination's backoff), and handing back what it holds on Ctrl-C.

use crate::events_cli::next_line;
use crate::helpers::*;
use crate::process::empty_dir;
use crate::pull::{ledger_delivery, spawn_pull_app};
use crate::sink::{Reply, Sink};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

const WAIT: Duration = Duration::from_secs(20);
/// Retries come quickly, so a nacked message is back within the test.
const FAST_RETRIES: &str = "backoff_base_ms = 50\nbackoff_max_ms = 100";

/// `hookgate consume ledger --url ADMIN ARGS…` with the consumer token in the environment.
fn consume(app: &TestApp, args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["consume", "ledger", "--url", &app.admin])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("HOOKGATE_CONSUMER_TOKEN", CONSUMER_TOKEN)
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Sends `SIGINT` and waits for a clean exit.
async fn interrupt(child: &mut Child) {
    let pid = child.id().unwrap().to_string();
    let sent = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("stopped within 10 s")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

async fn ledger_state(app: &TestApp, event: &str) -> String {
    ledger_delivery(app, event).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_exec_nacks_a_failing_command_and_acks_it_once_it_succeeds() {
    let (app, _sink) = spawn_pull_app(FAST_RETRIES).await;
    let body = unique_body();
    let event = app
        .post_github_event("push", body.as_bytes(), "application/json")
        .await;
    let out = empty_dir();
    // Keeps each attempt's input and environment; fails the first attempt.
    let command = format!(
        r#"cat > "{dir}/body-$HOOKGATE_ATTEMPT"; env > "{dir}/env-$HOOKGATE_ATTEMPT"; [ "$HOOKGATE_ATTEMPT" -ge 2 ]"#,
        dir = out.display()
    );
    let (mut child, mut lines) = consume(&app, &["--exec", &command]);
    let failed = next_line(&mut lines).await;
    assert!(
        failed.contains(&format!(" push {event} attempt 1 nacked (exit status 1) ")),
        "{failed}"
    );
    let succeeded = next_line(&mut lines).await;
    assert!(
        succeeded.contains(&format!(" push {event} attempt 2 acked ")) && succeeded.ends_with("ms"),
        "{succeeded}"
    );
    assert_eq!(ledger_state(&app, &event).await, "delivered");
    for attempt in [1, 2] {
        let received = std::fs::read(out.join(format!("body-{attempt}"))).unwrap();
        assert_eq!(received, body.as_bytes(), "the body on standard input");
    }
    let env = std::fs::read_to_string(out.join("env-2")).unwrap();
    for expected in [
        format!("HOOKGATE_EVENT_ID={event}"),
        "HOOKGATE_SOURCE=github".into(),
        "HOOKGATE_EVENT_TYPE=push".into(),
        "HOOKGATE_ATTEMPT=2".into(),
        "HOOKGATE_CONTENT_TYPE=application/json".into(),
        "HOOKGATE_PROVIDER_EVENT_ID=".into(),
        "HOOKGATE_RECEIVED_AT=".into(),
        "HOOKGATE_LEASE_ID=".into(),
    ] {
        assert!(env.contains(&expected), "{expected} not in\n{env}");
    }
    assert!(
        !env.contains(CONSUMER_TOKEN),
        "the command never sees the consumer token"
    );
    interrupt(&mut child).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_forward_posts_each_message_as_a_push_would_and_retries_after_a_500() {
    let (app, _billing) = spawn_pull_app(FAST_RETRIES).await;
    let local = Sink::start(vec![Reply::status(500)], Reply::status(200));
    let body = b"amount=42&currency=eur".to_vec();
    let event = app
        .post_github_event("charge", &body, "application/x-www-form-urlencoded")
        .await;
    let (mut child, mut lines) = consume(&app, &["--forward", &local.url]);
    let failed = next_line(&mut lines).await;
    assert!(failed.contains(" attempt 1 nacked (HTTP 500) "), "{failed}");
    let succeeded = next_line(&mut lines).await;
    assert!(succeeded.contains(" attempt 2 acked "), "{succeeded}");
    let received = local.wait_for(2, WAIT).await;
    for (attempt, request) in received.iter().enumerate() {
        assert_eq!(request.body, body);
        assert_eq!(
            request.header("content-type"),
            "application/x-www-form-urlencoded"
        );
        assert_eq!(request.header("idempotency-key"), event);
        assert_eq!(request.header("x-hookgate-event-id"), event);
        assert_eq!(request.header("x-hookgate-source"), "github");
        assert_eq!(request.header("x-hookgate-event-type"), "charge");
        assert_eq!(
            request.header("x-hookgate-attempt"),
            (attempt + 1).to_string()
        );
        assert!(!request.header("x-hookgate-delivery-id").is_empty());
    }
    assert_eq!(ledger_state(&app, &event).await, "delivered");
    interrupt(&mut child).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_hands_back_every_lease_the_consumer_holds() {
    let (app, _sink) = spawn_pull_app("").await;
    for _ in 0..3 {
        assert_eq!(app.post_new_github().await.status(), 202);
    }
    let (mut child, _lines) = consume(&app, &["--exec", "exec sleep 60", "--batch", "10"]);
    let held =
        "SELECT count(*) FROM deliveries WHERE destination_id = 'ledger' AND state = 'in_flight'";
    app.wait_count(held, 3, WAIT).await;
    interrupt(&mut child).await;
    assert_eq!(app.count(held).await, 0);
    // Due again at once: another consumer leases all three now, without waiting.
    let response = app
        .http
        .post(format!("{}/consume/ledger/lease", app.admin))
        .bearer_auth(CONSUMER_TOKEN)
        .json(&serde_json::json!({"max": 10}))
        .send()
        .await
        .unwrap();
    let messages = json(response).await["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 3, "{messages:?}");
    let errors: Vec<Option<String>> =
        sqlx::query_scalar("SELECT last_error FROM deliveries WHERE destination_id = 'ledger'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(
        errors
            .iter()
            .all(|e| e.as_deref() == Some("nack: consumer stopped")),
        "{errors:?}"
    );
    app.stop().await;
}
