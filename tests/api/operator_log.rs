//! At the default log level an operator sees what they act on: events accepted, refused and
//! for unknown sources, deliveries failing and dead, the circuit opening. Nothing secret.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_log_tells_the_operator_every_state_change() {
    let database = create_database(&server_url()).await;
    // Nothing listens on port 9: every attempt is refused; the second attempt is the last.
    let billing = Dest::at(
        "http://127.0.0.1:9/",
        "max_attempts = 2\nbackoff_base_ms = 10\nbackoff_max_ms = 20",
    );
    let text = config_text(&database, &billing, &billing, "");
    let mut process = ServeProcess::start(&text);
    let http = http();

    let delivery_id = uuid::Uuid::now_v7().to_string();
    let body = unique_body();
    let mut accepted = http
        .post(format!("{}/webhooks/github", process.ingest))
        .body(body.clone());
    for (name, value) in sign::github(secrets::GITHUB, body.as_bytes(), &delivery_id) {
        accepted = accepted.header(name, value);
    }
    assert_eq!(accepted.send().await.unwrap().status(), 202);
    let refused = http
        .post(format!("{}/webhooks/github", process.ingest))
        .header("X-Hub-Signature-256", "sha256=00")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let unknown = http
        .post(format!("{}/webhooks/strype", process.ingest))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // Each event's two deliveries die after two refused attempts each; the circuit of a
    // destination opens at its fifth failure in a row, during the third event.
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    wait_count(&pool, DEAD_DELIVERIES, 2, Duration::from_secs(20)).await;
    post_github(&http, &process.ingest).await;
    wait_count(&pool, DEAD_DELIVERIES, 4, Duration::from_secs(20)).await;
    post_github(&http, &process.ingest).await;
    wait_for_open_circuit(&process.admin).await;

    process.signal("TERM");
    assert!(process.wait_exit(Duration::from_secs(30)).success());
    let logs = process.all_logs().join("\n");
    let has = |needles: &[&str]| {
        logs.lines()
            .any(|line| needles.iter().all(|needle| line.contains(needle)))
    };
    assert!(
        has(&[
            "INFO",
            "webhook accepted",
            "source=github",
            &delivery_id,
            "deliveries=2"
        ]),
        "{logs}"
    );
    assert!(
        has(&["WARN", "webhook refused", "source=github", "signature"]),
        "{logs}"
    );
    assert!(has(&["WARN", "unknown source", "strype", "404"]), "{logs}");
    assert!(
        has(&[
            "WARN",
            "delivery attempt failed; retrying",
            "connect",
            "attempt=1"
        ]),
        "{logs}"
    );
    assert!(has(&["ERROR", "delivery dead", "attempt=2"]), "{logs}");
    assert!(
        has(&["WARN", "circuit opened", "destination=billing"]),
        "{logs}"
    );
    assert!(!logs.contains(secrets::GITHUB), "a secret was logged");
}

async fn post_github(http: &reqwest::Client, ingest: &str) {
    let body = unique_body();
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let mut request = http
        .post(format!("{ingest}/webhooks/github"))
        .body(body.clone());
    for (name, value) in sign::github(secrets::GITHUB, body.as_bytes(), &delivery_id) {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
}

async fn wait_for_open_circuit(admin: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let open = "hookgate_circuit_state{destination=\"billing\"} 1";
    loop {
        let metrics = metrics_text(admin).await;
        if metrics.lines().any(|line| line == open) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
