//! Delivery to destinations: exact requests, retries, dead letters, leases, circuit breaking,
//! rate and concurrency limits, fan-out and filters — against a real HTTP sink.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Reply, Sink};
use std::time::{Duration, Instant};

/// Fast retries so tests take milliseconds.
pub const FAST: &str = "backoff_base_ms = 20\nbackoff_max_ms = 50\ntimeout_ms = 2000";
const WAIT: Duration = Duration::from_secs(15);

pub async fn app_with(billing: Dest, ledger: Dest) -> TestApp {
    spawn_app_with(TestOptions {
        billing,
        ledger,
        ..Default::default()
    })
    .await
}

/// Posts one new GitHub event; answers (hookgate id, body).
pub async fn post_event(app: &TestApp) -> (String, String) {
    let body = unique_body();
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let headers = sign::github(secrets::GITHUB, body.as_bytes(), &delivery_id);
    let response = app.post("github", &headers, body.clone()).await;
    assert_eq!(response.status(), 202);
    (
        json(response).await["id"].as_str().unwrap().to_owned(),
        body,
    )
}

async fn delivery_state(app: &TestApp, event: &str, destination: &str) -> (String, i32) {
    sqlx::query_as(
        "SELECT state, attempts FROM deliveries WHERE event_id = $1::uuid AND destination_id = $2",
    )
    .bind(event)
    .bind(destination)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

pub async fn wait_state(app: &TestApp, event: &str, destination: &str, state: &str) -> i32 {
    let deadline = Instant::now() + WAIT;
    loop {
        let (current, attempts) = delivery_state(app, event, destination).await;
        if current == state {
            return attempts;
        }
        assert!(
            Instant::now() < deadline,
            "{destination}: still {current} after {attempts} attempts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_destination_gets_the_exact_body_every_header_and_a_verifiable_signature() {
    let sink = Sink::ok();
    let signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let billing = Dest::at(&sink.url, &format!("signing_secret = \"{signing_secret}\""));
    let app = app_with(billing, Dest::default()).await;

    let body = unique_body();
    let mut headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
    headers.push((
        "Content-Type".into(),
        "application/json; charset=utf-8".into(),
    ));
    let ack = json(app.post("stripe", &headers, body.clone()).await).await;
    let id = ack["id"].as_str().unwrap();

    let received = sink.wait_for(1, WAIT).await;
    let got = &received[0];
    assert_eq!(got.body, body.as_bytes());
    assert_eq!(
        got.header("content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(got.header("idempotency-key"), id);
    assert_eq!(got.header("x-hookgate-event-id"), id);
    assert_eq!(got.header("x-hookgate-source"), "stripe");
    assert_eq!(got.header("x-hookgate-event-type"), "invoice.paid");
    assert_eq!(got.header("x-hookgate-attempt"), "1");
    let delivery_id: String = sqlx::query_scalar(
        "SELECT id::text FROM deliveries WHERE event_id = $1::uuid AND destination_id = 'billing'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(got.header("x-hookgate-delivery-id"), delivery_id);

    // Verified with the Standard Webhooks reference library, not hookgate's code.
    let mut map = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        map.insert(name, got.header(name).parse().unwrap());
    }
    let verifier = standardwebhooks::Webhook::new(signing_secret).unwrap();
    verifier
        .verify(&got.body, &map)
        .expect("Standard Webhooks signature verifies");
    assert!(verifier.verify(b"tampered", &map).is_err());
    assert_eq!(got.header("webhook-id"), id);

    wait_state(&app, id, "billing", "delivered").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_500s_then_200_is_delivered_on_attempt_four_with_the_same_idempotency_key() {
    let script = vec![Reply::status(500), Reply::status(500), Reply::status(500)];
    let sink = Sink::start(script, Reply::status(200));
    let app = app_with(Dest::at(&sink.url, FAST), Dest::default()).await;
    let (id, _) = post_event(&app).await;

    let attempts = wait_state(&app, &id, "billing", "delivered").await;
    assert_eq!(attempts, 4);
    let received = sink.received();
    assert_eq!(received.len(), 4);
    for (n, request) in received.iter().enumerate() {
        assert_eq!(request.header("idempotency-key"), id);
        assert_eq!(request.header("x-hookgate-attempt"), (n + 1).to_string());
    }
    let billing = app.admin_delivery(&id, "billing").await;
    let history: Vec<(i64, i64)> = billing["attempt_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["attempt"].as_i64().unwrap(),
                a["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(history, vec![(1, 500), (2, 500), (3, 500), (4, 200)]);
    // The failures have rows of their own; the attempt that delivered is kept on the
    // delivery row.
    let rows: Vec<i32> = sqlx::query_scalar(
        "SELECT a.attempt FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1::uuid AND d.destination_id = 'billing' ORDER BY a.attempt",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows, vec![1, 2, 3]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_is_dead_after_one_attempt_and_exhaustion_is_dead_too() {
    let rejecting = Sink::start(Vec::new(), Reply::status(400));
    let failing = Sink::start(Vec::new(), Reply::status(503));
    let app = app_with(
        Dest::at(&rejecting.url, FAST),
        Dest::at(&failing.url, &format!("{FAST}\nmax_attempts = 3")),
    )
    .await;
    let (id, _) = post_event(&app).await;
    assert_eq!(wait_state(&app, &id, "billing", "dead").await, 1);
    assert_eq!(wait_state(&app, &id, "ledger", "dead").await, 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((rejecting.count(), failing.count()), (1, 3));
    let error: String = sqlx::query_scalar(
        "SELECT last_error FROM deliveries WHERE event_id = $1::uuid AND destination_id = 'ledger'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(error.contains("exhausted after 3 attempts"), "{error}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_delays_the_next_attempt_at_least_that_long() {
    let script = vec![Reply::status(429).with_header("Retry-After", "2")];
    let sink = Sink::start(script, Reply::status(200));
    let app = app_with(Dest::at(&sink.url, FAST), Dest::default()).await;
    let (id, _) = post_event(&app).await;
    let received = sink.wait_for(2, WAIT).await;
    let gap = received[1].at - received[0].at;
    assert!(gap >= Duration::from_secs(2), "retried after {gap:?}");
    wait_state(&app, &id, "billing", "delivered").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_retried() {
    let script = vec![Reply::status(200).after(Duration::from_secs(3))];
    let sink = Sink::start(script, Reply::status(200));
    let settings = "backoff_base_ms = 20\nbackoff_max_ms = 50\ntimeout_ms = 300";
    let app = app_with(Dest::at(&sink.url, settings), Dest::default()).await;
    let (id, _) = post_event(&app).await;
    assert_eq!(wait_state(&app, &id, "billing", "delivered").await, 2);
    let error: String = sqlx::query_scalar(
        "SELECT a.error FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
         WHERE d.event_id = $1::uuid AND d.destination_id = 'billing' AND a.attempt = 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(error.contains("timeout"), "{error}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_delivers_to_the_healthy_destination_while_the_failing_one_retries() {
    let healthy = Sink::ok();
    let failing = Sink::start(Vec::new(), Reply::status(502));
    let app = app_with(Dest::at(&healthy.url, FAST), Dest::at(&failing.url, FAST)).await;
    let (id, _) = post_event(&app).await;
    wait_state(&app, &id, "billing", "delivered").await;
    failing.wait_for(2, WAIT).await;
    let (state, attempts) = delivery_state(&app, &id, "ledger").await;
    assert_ne!(state, "delivered");
    assert!(attempts >= 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_opens_on_a_dead_destination_and_the_healthy_one_keeps_flowing() {
    let healthy = Sink::ok();
    let dead = Sink::start(Vec::new(), Reply::status(500));
    let app = app_with(
        Dest::at(&healthy.url, FAST),
        Dest::at(&dead.url, &format!("{FAST}\nconcurrency = 1")),
    )
    .await;
    for _ in 0..20 {
        post_event(&app).await;
    }
    healthy.wait_for(20, WAIT).await;
    app.wait_count(
        "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'delivered'",
        20,
        WAIT,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Without the circuit, 20 deliveries with 15 fast attempts each would hit it ~300 times.
    let hits = dead.count();
    assert!((5..=6).contains(&hits), "dead destination hit {hits} times");
    let pending = app
        .count(
            "SELECT count(*) FROM deliveries WHERE destination_id = 'ledger' AND state = 'pending'",
        )
        .await;
    assert_eq!(pending, 20, "deliveries wait instead of burning attempts");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_is_never_exceeded() {
    let sink = Sink::start(
        Vec::new(),
        Reply::status(200).after(Duration::from_millis(150)),
    );
    let app = app_with(Dest::at(&sink.url, "concurrency = 3"), Dest::default()).await;
    for _ in 0..12 {
        post_event(&app).await;
    }
    sink.wait_for(12, WAIT).await;
    assert_eq!(sink.max_in_flight(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_respected_with_and_without_redis() {
    for redis in [Some(redis_url()), None] {
        let sink = Sink::ok();
        let app = spawn_app_with(TestOptions {
            billing: Dest::at(&sink.url, "rate_limit_per_sec = 4"),
            redis,
            ..Default::default()
        })
        .await;
        for _ in 0..12 {
            post_event(&app).await;
        }
        let received = sink.wait_for(12, WAIT).await;
        let mut times: Vec<Instant> = received.iter().map(|r| r.at).collect();
        times.sort();
        // At 4/s no 9 deliveries fit in one second, whether the limit is a local token
        // bucket or Redis's fixed one-second windows (at most 4 + 4 across a boundary).
        for window in times.windows(9) {
            assert!(
                window[8] - window[0] >= Duration::from_millis(900),
                "9 deliveries within a second"
            );
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_worker_died_is_done_again_after_its_lease_expires() {
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, "timeout_ms = 100"),
        role: hookgate::app::Role::Ingest,
        ..Default::default()
    })
    .await;
    let (id, _) = post_event(&app).await;
    // A worker claimed it and died mid-attempt: in flight, lease running out in a second.
    sqlx::query(
        "UPDATE deliveries SET state = 'in_flight', attempts = 1, lease_until = now() + interval '1 second'
         WHERE event_id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();
    let database_url = app.database.clone();
    app.stop().await;

    let text = config_text(
        &database_url,
        &Dest::at(&sink.url, "timeout_ms = 100"),
        &Dest::at(&sink.url, ""),
        "",
    );
    let worker = start(&text, database_url, hookgate::app::Role::Worker).await;
    let attempts = wait_state(&worker, &id, "billing", "delivered").await;
    assert_eq!(
        attempts, 2,
        "the lost attempt counts, the redelivery is attempt 2"
    );
    let received = sink.wait_for(2, WAIT).await;
    assert!(
        received
            .iter()
            .any(|r| r.header("x-hookgate-attempt") == "2")
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_match_no_filter_are_stored_without_a_delivery() {
    let sink = Sink::ok();
    let extra = format!(
        "\n[[sources]]\nid = \"filtered\"\nprovider = \"github\"\nsecrets = [{:?}]\ndestinations = [\"billing\"]\nfilter = {{ event_types = [\"pull_request\", \"issue*\"] }}\n",
        secrets::GITHUB
    );
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, FAST),
        extra_config: extra,
        ..Default::default()
    })
    .await;
    for (event_type, delivered) in [("push", false), ("pull_request", true), ("issues", true)] {
        let body = unique_body();
        let mut headers = sign::github(
            secrets::GITHUB,
            body.as_bytes(),
            &uuid::Uuid::now_v7().to_string(),
        );
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("x-github-event"));
        headers.push(("X-GitHub-Event".into(), event_type.into()));
        let ack = json(app.post("filtered", &headers, body).await).await;
        let deliveries = app
            .count(&format!(
                "SELECT count(*) FROM deliveries WHERE event_id = '{}'",
                ack["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(deliveries, i64::from(delivered), "{event_type}");
    }
    sink.wait_for(2, WAIT).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_only_process_and_a_worker_only_process_deliver_together() {
    let sink = Sink::ok();
    let billing = Dest::at(&sink.url, FAST);
    let ingest = spawn_app_with(TestOptions {
        billing: billing.clone(),
        role: hookgate::app::Role::Ingest,
        ..Default::default()
    })
    .await;
    let text = config_text(&ingest.database_url, &billing, &Dest::default(), "");
    let worker = start(&text, ingest.database.clone(), hookgate::app::Role::Worker).await;
    assert!(
        worker.ingest.is_empty(),
        "a worker-only process has no ingest listener"
    );
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(post_event(&ingest).await.0);
    }
    for id in &ids {
        wait_state(&ingest, id, "billing", "delivered").await;
    }
    let keys: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.header("idempotency-key").to_owned())
        .collect();
    assert_eq!(keys.len(), 5);
    assert!(ids.iter().all(|id| keys.contains(id)));
    worker.stop().await;
    ingest.stop().await;
}
