//! Logging never takes hookgate down: with its standard error a pipe whose reader is gone,
//! every request still gets its answer, dropped lines are counted, and signals still stop it.

use crate::drill::figures;
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
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
