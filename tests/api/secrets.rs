//! No secret ever leaves hookgate: not in logs, metrics, admin answers or error bodies.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
use crate::sink::{Reply, Sink};
use std::time::Duration;

const SIGNING_SECRET: &str = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLWRlbGl2ZXJpZXM=";
const CALLER_CREDENTIAL: &str = "Bearer caller-credential-xyz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_appear_in_no_log_line_metric_admin_answer_or_error_body() {
    let sink = Sink::start(vec![Reply::status(500)], Reply::status(200));
    let database_url = create_database(&server_url()).await;
    let billing = Dest::at(
        &sink.url,
        &format!(
            "signing_secret = \"{SIGNING_SECRET}\"\nbackoff_base_ms = 20\nbackoff_max_ms = 50"
        ),
    );
    let text = config_text(&database_url, &billing, &Dest::default(), "");
    let mut process = ServeProcess::start_logging(&text, "debug");
    let http = http();
    let mut bodies = Vec::new();

    let body = unique_body();
    let mut valid = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    valid.push(("Authorization".into(), CALLER_CREDENTIAL.into()));
    let wrong = sign::stripe("whsec_not_the_secret", body.as_bytes(), now());
    let mut event_id = String::new();
    for (headers, expected) in [(&valid, 202), (&wrong, 401), (&valid, 200)] {
        let mut request = http
            .post(format!("{}/webhooks/stripe", process.ingest))
            .body(body.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), expected);
        let text = response.text().await.unwrap();
        if expected == 202 {
            event_id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        bodies.push(text);
    }
    sink.wait_for(2, Duration::from_secs(15)).await;

    for (path, token) in [
        (format!("/admin/events/{event_id}"), ADMIN_TOKEN),
        ("/admin/events".to_owned(), ADMIN_TOKEN),
        ("/admin/stats".to_owned(), ADMIN_TOKEN),
        ("/admin/openapi.json".to_owned(), ADMIN_TOKEN),
        ("/admin/events".to_owned(), "wrong-token"),
        ("/metrics".to_owned(), ADMIN_TOKEN),
        ("/readyz".to_owned(), ADMIN_TOKEN),
    ] {
        let response = http
            .get(format!("{}{path}", process.admin))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        bodies.push(response.text().await.unwrap());
    }
    process.signal("TERM");
    assert!(process.wait_exit(Duration::from_secs(30)).success());
    let logs = process.all_logs().join("\n");
    assert!(
        logs.contains("webhook refused"),
        "the logs are really captured"
    );

    let others = [SIGNING_SECRET, ADMIN_TOKEN, "caller-credential-xyz"];
    for secret in secrets::ALL.into_iter().chain(others) {
        assert!(!logs.contains(secret), "{secret:?} in the logs");
        for body in &bodies {
            assert!(!body.contains(secret), "{secret:?} in a response: {body}");
        }
    }
}
