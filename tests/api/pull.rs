//! Pull destinations through `/consume/{destination}/…` on the admin listener: leases, acks,
//! nacks, expiry, long polls, concurrent consumers, and who may call them. `ledger` is the
//! pull destination here; every source also fans out to `billing`, pushed to a sink.

use crate::helpers::*;
use crate::sink::Sink;
use base64::Engine;
use hookgate::app::Role;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);
/// The consumer token of `jobs`, a second pull destination (see [`jobs_config`]).
pub const JOBS_TOKEN: &str = "test-jobs-token";

/// Config lines for a pull destination `jobs` fed by the GitHub source `jobs-github`.
pub fn jobs_config() -> String {
    format!(
        r#"
[[destinations]]
id = "jobs"
kind = "pull"
consumer_tokens = ["{JOBS_TOKEN}"]

[[sources]]
id = "jobs-github"
provider = "github"
secrets = ["{}"]
destinations = ["jobs"]
"#,
        secrets::GITHUB
    )
}

/// A hookgate whose `ledger` is a pull destination with these extra settings, besides `jobs`.
pub async fn spawn_pull_app(ledger_settings: &str) -> (TestApp, Sink) {
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ledger: Dest::pull(ledger_settings),
        extra_config: jobs_config(),
        ..Default::default()
    })
    .await;
    (app, sink)
}

/// POSTs `body` to `/consume/{destination}/{action}` with `Authorization: Bearer token`.
async fn call(
    app: &TestApp,
    destination: &str,
    action: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/consume/{destination}/{action}", app.admin))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the admin listener answers")
}

/// Leases from `ledger`; answers the messages.
pub async fn lease(app: &TestApp, request: Value) -> Vec<Value> {
    let response = call(app, "ledger", "lease", Some(CONSUMER_TOKEN), &request).await;
    assert_eq!(response.status(), 200);
    json(response).await["messages"].as_array().unwrap().clone()
}

/// Acks or nacks (`action`) on `ledger`; answers each id's status, in order.
pub async fn end(app: &TestApp, action: &str, mut request: Value, ids: &[&str]) -> Vec<String> {
    request["lease_ids"] = json!(ids);
    let response = call(app, "ledger", action, Some(CONSUMER_TOKEN), &request).await;
    assert_eq!(response.status(), 200);
    let results = json(response).await["results"].as_array().unwrap().clone();
    for (result, id) in results.iter().zip(ids) {
        assert_eq!(result["lease_id"], *id);
    }
    results
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

pub fn lease_id(message: &Value) -> &str {
    message["lease_id"].as_str().unwrap()
}

/// The state and attempts of the ledger delivery of `event`.
pub async fn ledger_delivery(app: &TestApp, event: &str) -> (String, i32) {
    sqlx::query_as(
        "SELECT state, attempts FROM deliveries WHERE event_id = $1::uuid AND destination_id = 'ledger'",
    )
    .bind(event)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leased_message_carries_its_event_and_an_ack_delivers_it() {
    let (app, sink) = spawn_pull_app("").await;
    let json_body = unique_body();
    let json_event = app
        .post_github_event("push", json_body.as_bytes(), "application/json")
        .await;
    let binary = b"\x00\xff binary \x80".to_vec();
    let binary_event = app
        .post_github_event("issues", &binary, "application/x-custom")
        .await;
    sink.wait_for(2, WAIT).await;
    // No push worker touched the pull destination's deliveries.
    assert_eq!(
        ledger_delivery(&app, &json_event).await,
        ("pending".into(), 0)
    );

    let messages = lease(&app, json!({"max": 10, "visibility_ms": 30000})).await;
    assert_eq!(messages.len(), 2);
    let first = &messages[0];
    assert_eq!(first["event_id"], json_event.as_str());
    assert_eq!(first["source"], "github");
    assert_eq!(first["event_type"], "push");
    assert_eq!(first["attempt"], 1);
    assert_eq!(first["content_type"], "application/json");
    assert_eq!(first["body_encoding"], "json");
    assert_eq!(
        first["body"],
        serde_json::from_str::<Value>(&json_body).unwrap()
    );
    assert!(first["received_at"].as_str().unwrap().ends_with('Z'));
    assert!(!first["provider_event_id"].as_str().unwrap().is_empty());
    let second = &messages[1];
    assert_eq!(second["event_id"], binary_event.as_str());
    assert_eq!(second["body_encoding"], "base64");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(second["body"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, binary);
    assert_eq!(
        ledger_delivery(&app, &json_event).await,
        ("in_flight".into(), 1)
    );
    assert!(lease(&app, json!({})).await.is_empty(), "both are leased");

    let ids = [lease_id(first), lease_id(second)];
    assert_eq!(end(&app, "ack", json!({}), &ids).await, ["acked", "acked"]);
    assert_eq!(
        ledger_delivery(&app, &json_event).await,
        ("delivered".into(), 1)
    );
    assert_eq!(
        end(&app, "ack", json!({}), &ids[..1]).await,
        ["expired"],
        "a second ack changes nothing"
    );
    // The admin API shows the attempt as it would a push's.
    let ledger = app.admin_delivery(&json_event, "ledger").await;
    assert_eq!(ledger["state"], "delivered", "{ledger}");
    let attempts = ledger["attempt_history"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{ledger}");
    assert_eq!(attempts[0]["attempt"], 1, "{ledger}");
    // Counted like a push's (the recorder is shared by the tests of this process: no total).
    let metrics = metrics_text(&app.admin).await;
    assert!(
        metrics.contains(
            r#"hookgate_delivery_attempts_total{destination="ledger",outcome="delivered"}"#
        ),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nack_retries_after_its_delay_until_the_last_attempt_makes_it_dead() {
    let (app, _sink) = spawn_pull_app("max_attempts = 2").await;
    let event = app
        .post_github_event("push", unique_body().as_bytes(), "application/json")
        .await;
    let first = lease(&app, json!({})).await;
    assert_eq!(first[0]["attempt"], 1);
    let nack = json!({"delay_ms": 2000, "reason": "database locked"});
    assert_eq!(
        end(&app, "nack", nack.clone(), &[lease_id(&first[0])]).await,
        ["nacked"]
    );
    assert!(
        lease(&app, json!({})).await.is_empty(),
        "not due before its delay"
    );
    let second = lease(&app, json!({"wait_ms": 10000})).await;
    assert_eq!(second.len(), 1, "due again after the delay");
    assert_eq!(second[0]["attempt"], 2);
    assert_eq!(
        end(&app, "nack", nack, &[lease_id(&second[0])]).await,
        ["dead"]
    );
    assert_eq!(ledger_delivery(&app, &event).await, ("dead".into(), 2));

    let dead = json(
        app.admin_get("/admin/deliveries?status=dead&destination=ledger")
            .await,
    )
    .await;
    let dead = dead["deliveries"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    let error = dead[0]["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("exhausted after 2 attempts") && error.contains("nack: database locked"),
        "{dead:?}"
    );
    // A replay makes a new delivery, leased like any other.
    let replayed = app
        .admin_post(
            &format!("/admin/events/{event}/replay"),
            r#"{"destinations":["ledger"]}"#,
        )
        .await;
    assert_eq!(replayed.status(), 202);
    let again = lease(&app, json!({"wait_ms": 5000})).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["event_id"], event.as_str());
    assert_eq!(again[0]["attempt"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_comes_back_as_a_new_attempt_and_its_late_ack_is_refused() {
    let (app, _sink) = spawn_pull_app("max_attempts = 2").await;
    let event = app
        .post_github_event("push", unique_body().as_bytes(), "application/json")
        .await;
    let first = lease(&app, json!({"visibility_ms": 200})).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = lease(&app, json!({"visibility_ms": 2000})).await;
    assert_eq!(second.len(), 1, "back by itself once its lease ran out");
    assert_eq!(second[0]["delivery_id"], first[0]["delivery_id"]);
    assert_eq!(second[0]["attempt"], 2);
    assert_eq!(
        end(&app, "ack", json!({}), &[lease_id(&first[0])]).await,
        ["expired"],
        "the first lease's ack comes too late"
    );
    assert_eq!(ledger_delivery(&app, &event).await, ("in_flight".into(), 2));
    // The second lease runs out too, on the last attempt: dead, with both attempts recorded.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(lease(&app, json!({})).await.is_empty());
    assert_eq!(ledger_delivery(&app, &event).await, ("dead".into(), 2));
    let errors: Vec<String> = sqlx::query_scalar(
        "SELECT a.error FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1::uuid AND d.destination_id = 'ledger' ORDER BY a.attempt",
    )
    .bind(&event)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(errors.len(), 2);
    assert!(
        errors.iter().all(|e| e.starts_with("lease expired")),
        "{errors:?}"
    );
    assert_eq!(
        end(&app, "ack", json!({}), &[lease_id(&second[0])]).await,
        ["expired"]
    );
    app.stop().await;
}

/// Starts a long poll on `poller`, commits an event through `ingest` once it waits, and checks
/// that the poll answered with it long before its wait ran out; prints how long after the 202.
async fn long_poll_answers_a_commit(poller: &TestApp, ingest: &TestApp) {
    let poll = {
        let (admin, http) = (poller.admin.clone(), poller.http.clone());
        tokio::spawn(async move {
            let response = http
                .post(format!("{admin}/consume/ledger/lease"))
                .bearer_auth(CONSUMER_TOKEN)
                .json(&json!({"wait_ms": 20000}))
                .send()
                .await
                .unwrap();
            let answered = Instant::now();
            (json(response).await, answered)
        })
    };
    // Long enough for the poll to have looked once and started waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let event = ingest
        .post_github_event("push", unique_body().as_bytes(), "application/json")
        .await;
    let committed = Instant::now();
    let (answer, answered) = poll.await.unwrap();
    let latency = answered.saturating_duration_since(committed);
    println!("long poll answered {latency:?} after the 202");
    assert_eq!(answer["messages"][0]["event_id"], event.as_str());
    assert!(
        latency < Duration::from_secs(10),
        "answered by the commit, not by wait_ms running out: {latency:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_as_soon_as_an_event_is_committed() {
    let (app, _sink) = spawn_pull_app("").await;
    long_poll_answers_a_commit(&app, &app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_in_another_process_is_woken_by_the_commit_too() {
    let database = create_database(&server_url()).await;
    let sink = Sink::ok();
    let text = config_text(
        &database.url,
        &Dest::at(&sink.url, ""),
        &Dest::pull(""),
        &jobs_config(),
    );
    let ingest = start(&text, database.clone(), Role::Ingest).await;
    let worker = start(&text, database, Role::Worker).await;
    long_poll_answers_a_commit(&worker, &ingest).await;
    ingest.stop().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consumers_never_hold_the_same_message() {
    let (app, _sink) = spawn_pull_app("").await;
    const EVENTS: usize = 60;
    for _ in 0..EVENTS {
        assert_eq!(app.post_new_github().await.status(), 202);
    }
    let consumers: Vec<_> = (0..6)
        .map(|_| {
            let (admin, http) = (app.admin.clone(), app.http.clone());
            tokio::spawn(async move {
                let mut held = Vec::new();
                loop {
                    let response = http
                        .post(format!("{admin}/consume/ledger/lease"))
                        .bearer_auth(CONSUMER_TOKEN)
                        .json(&json!({"max": 4}))
                        .send()
                        .await
                        .unwrap();
                    let messages = json(response).await["messages"].as_array().unwrap().clone();
                    if messages.is_empty() {
                        return held;
                    }
                    held.extend(messages.iter().map(|m| m["delivery_id"].to_string()));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for consumer in consumers {
        all.extend(consumer.await.unwrap());
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a message was leased twice");
    assert_eq!(all.len(), EVENTS);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_destinations_own_consumer_tokens_open_its_routes() {
    let (app, _sink) = spawn_pull_app("").await;
    for action in ["lease", "ack", "nack"] {
        let body = match action {
            "lease" => json!({}),
            _ => json!({"lease_ids": ["x"]}),
        };
        for token in [
            None,
            Some("guessed-token"),
            Some(ADMIN_TOKEN),
            Some(JOBS_TOKEN),
            Some(&CONSUMER_TOKEN[1..]),
        ] {
            let response = call(&app, "ledger", action, token, &body).await;
            assert_eq!(response.status(), 401, "{action} with {token:?}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            let problem = response.text().await.unwrap();
            assert!(problem.contains(r#""code":"unauthorized""#), "{problem}");
            assert!(
                token.is_none_or(|token| !problem.contains(token)),
                "the token presented is not echoed: {problem}"
            );
        }
        for token in [CONSUMER_TOKEN, CONSUMER_TOKEN_PREVIOUS] {
            let response = call(&app, "ledger", action, Some(token), &body).await;
            assert_eq!(response.status(), 200, "{action} with a rotation token");
        }
    }
    // With a consumer token: no such pull destination (an unknown one, or a push one) is 404;
    // without one, nothing is learnt.
    for destination in ["nope", "billing"] {
        let response = call(&app, destination, "lease", Some(CONSUMER_TOKEN), &json!({})).await;
        assert_eq!(response.status(), 404, "{destination}");
        assert_eq!(json(response).await["code"], "unknown_destination");
        let response = call(&app, destination, "lease", Some("wrong"), &json!({})).await;
        assert_eq!(response.status(), 401, "{destination}");
    }
    // A consumer token opens nothing else.
    for path in ["/admin/events", "/admin/stats", "/admin/openapi.json"] {
        let response = app
            .http
            .get(format!("{}{path}", app.admin))
            .bearer_auth(CONSUMER_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    // The tokens show nowhere an operator or a scraper looks.
    let metrics = metrics_text(&app.admin).await;
    let document = app
        .admin_get("/admin/openapi.json")
        .await
        .text()
        .await
        .unwrap();
    for token in [CONSUMER_TOKEN, CONSUMER_TOKEN_PREVIOUS, JOBS_TOKEN] {
        assert!(!metrics.contains(token) && !document.contains(token));
    }
    // Another method on a consumer route, with its token, is 405.
    let response = app
        .http
        .get(format!("{}/consume/ledger/lease", app.admin))
        .bearer_auth(CONSUMER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_problems_and_foreign_or_unknown_lease_ids_change_nothing() {
    let (app, _sink) = spawn_pull_app("").await;
    for (action, body) in [
        ("lease", json!({"max": 0})),
        ("lease", json!({"max": 501})),
        ("lease", json!({"visibility_ms": 99})),
        ("lease", json!({"wait_ms": 20001})),
        ("lease", json!({"maximum": 5})),
        ("lease", json!([1])),
        ("ack", json!({})),
        ("ack", json!({"lease_ids": []})),
        ("ack", json!({"lease_ids": "x"})),
        (
            "nack",
            json!({"lease_ids": ["x"], "delay_ms": 86_400_001u64}),
        ),
        (
            "nack",
            json!({"lease_ids": ["x"], "reason": "x".repeat(1025)}),
        ),
    ] {
        let response = call(&app, "ledger", action, Some(CONSUMER_TOKEN), &body).await;
        let what = format!("{action} {body}");
        assert_eq!(response.status(), 400, "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        assert_eq!(json(response).await["code"], "invalid_request", "{what}");
    }
    // No body asks for the defaults; whitespace alone is not JSON (as the document says).
    for (body, status) in [("", 200), ("null", 200), ("\n", 400), (" {} ", 200)] {
        let response = app
            .http
            .post(format!("{}/consume/ledger/lease", app.admin))
            .bearer_auth(CONSUMER_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "lease with body {body:?}");
    }

    // A lease of `jobs` acked on `ledger` is unknown there and stays held.
    let body = unique_body();
    let signed = crate::independent_sign::github(secrets::GITHUB, body.as_bytes(), "jobs-1");
    assert_eq!(app.post("jobs-github", &signed, body).await.status(), 202);
    let response = call(&app, "jobs", "lease", Some(JOBS_TOKEN), &json!({})).await;
    let jobs = json(response).await["messages"][0].clone();
    let foreign = lease_id(&jobs);
    let forged = format!("{}.1.{}", &foreign[..32], uuid::Uuid::now_v7().simple());
    assert_eq!(
        end(&app, "ack", json!({}), &[foreign, &forged, "not-a-lease"]).await,
        ["unknown", "unknown", "unknown"]
    );
    let state: String = sqlx::query_scalar("SELECT state FROM deliveries WHERE id = $1::uuid")
        .bind(jobs["delivery_id"].as_str().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(state, "in_flight");
    let response = call(
        &app,
        "jobs",
        "ack",
        Some(JOBS_TOKEN),
        &json!({"lease_ids": [&forged]}),
    )
    .await;
    assert_eq!(
        json(response).await["results"][0]["status"],
        "expired",
        "a guessed token does not end the lease"
    );
    app.stop().await;
}
