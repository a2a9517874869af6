//! Logging never takes hookgate down: with its standard error a pipe whose reader is gone,
//! every request still gets its answer, dropped lines are counted, and signals still stop it;
//! and so with a reader that stalls (log lines are written by a thread of their own).

use crate::drill::figures;
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
use futures_util::StreamExt;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_log_pipe_costs_no_answer_and_no_shutdown() {
    let database = create_database(&server_url()).await;
    let config = default_config_text(&database.url);
    for signal in ["TERM", "INT"] {
        let mut serve = ServeProcess::start(&config);
        serve.stop_reading_logs();
        let http = http();
        let post = |source: &str, headers: Vec<(String, String)>, body: String| {
            let request = http
                .post(format!("{}/webhooks/{source}", serve.ingest))
                .body(body);
            headers
                .into_iter()
                .fold(request, |request, (name, value)| {
                    request.header(name, value)
                })
                .send()
        };
        // Each of these writes a log line (refused, unknown source, accepted).
        for _ in 0..3 {
            let forged = sign::github("not the secret", b"{}", "delivery-forged");
            let refused = post("github", forged, "{}".into()).await.unwrap();
            assert_eq!(refused.status(), 401);
            let unknown = post("nope", vec![], "{}".into()).await.unwrap();
            assert_eq!(unknown.status(), 404);
        }
        let body = unique_body();
        let delivery = uuid::Uuid::now_v7().to_string();
        let valid = sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
        assert_eq!(post("github", valid, body).await.unwrap().status(), 202);

        let metrics = metrics_text(&serve.admin).await;
        let dropped = metrics
            .lines()
            .find_map(|line| line.strip_prefix("hookgate_log_lines_dropped_total "))
            .and_then(|value| value.trim().parse::<f64>().ok());
        assert!(dropped.is_some_and(|n| n >= 1.0), "{metrics}");

        serve.signal(signal);
        let status = serve.wait_exit(Duration::from_secs(20));
        assert!(
            status.success(),
            "SIG{signal} with a dead log pipe: {status}"
        );
        figures(
            "log-sink-gone",
            &[
                ("signal", signal.to_string()),
                ("requests_answered", "7".to_string()),
                ("log_lines_dropped", dropped.unwrap().to_string()),
                ("exit", status.to_string()),
            ],
        );
    }
}

/// Refused webhooks sent while nobody reads hookgate's standard error: each logs a line,
/// together far more than a pipe holds (64 KiB).
const UNREAD_LOG_REQUESTS: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_log_reader_costs_no_answer_and_no_shutdown() {
    let database = create_database(&server_url()).await;
    // Started, then its standard error is left unread (the pipe stays open): a paused `| less`.
    let mut serve = ServeProcess::start_logging(&default_config_text(&database.url), "debug");
    http(); // installs the crypto provider the builder needs
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("{}/webhooks/github", serve.ingest);
    let forged = sign::github("not the secret", b"{}", "delivery-forged");
    let refused = futures_util::stream::iter(0..UNREAD_LOG_REQUESTS)
        .map(|_| {
            let request = forged
                .iter()
                .fold(http.post(&url).body("{}"), |request, (name, value)| {
                    request.header(name, value)
                });
            async move { request.send().await.map(|response| response.status()) }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    for answer in &refused {
        assert_eq!(
            answer.as_ref().map(|status| status.as_u16()).ok(),
            Some(401),
            "{answer:?}"
        );
    }
    let body = unique_body();
    let valid = sign::github(secrets::GITHUB, body.as_bytes(), "delivery-after-stall");
    let request = valid
        .into_iter()
        .fold(http.post(&url).body(body), |request, (name, value)| {
            request.header(name, value)
        });
    assert_eq!(request.send().await.unwrap().status(), 202);

    serve.signal("TERM");
    let status = serve.wait_exit(Duration::from_secs(20));
    assert!(
        status.success(),
        "SIGTERM with a stalled log reader: {status}"
    );
    figures(
        "log-reader-stalled",
        &[
            ("requests_answered", (UNREAD_LOG_REQUESTS + 1).to_string()),
            ("exit", status.to_string()),
        ],
    );
}
