//! The ingest route: status codes, problem bodies, deduplication, what is stored.

use crate::helpers::*;
use crate::independent_sign as sign;
use futures_util::future::join_all;
use serde_json::Value;

fn github_headers(body: &str, delivery: &str) -> Vec<(String, String)> {
    sign::github(secrets::GITHUB, body.as_bytes(), delivery)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_event_is_accepted_and_stored_byte_exact_with_one_delivery_per_destination() {
    let app = spawn_app().await;
    let body = unique_body();
    let mut sent = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    sent.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    sent.push((
        "Content-Type".into(),
        "application/json; charset=utf-8".into(),
    ));
    sent.push(("Authorization".into(), "Bearer must-not-be-stored".into()));

    let response = app.post("stripe", &sent, body.clone()).await;
    assert_eq!(response.status(), 202);
    let ack = json(response).await;
    assert_eq!(ack["status"], "accepted");
    let expected_event_id = serde_json::from_str::<Value>(&body).unwrap()["id"].clone();
    assert_eq!(ack["event_id"], expected_event_id);

    let id = uuid::Uuid::parse_str(ack["id"].as_str().unwrap()).unwrap();
    let (stored_body, content_type, event_type, headers): (Vec<u8>, String, String, Value) =
        sqlx::query_as("SELECT body, content_type, event_type, headers FROM events WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored_body, body.as_bytes());
    assert_eq!(content_type, "application/json; charset=utf-8");
    assert_eq!(event_type, "invoice.paid");
    assert!(headers.get("stripe-signature").is_some());
    assert!(headers.get("authorization").is_none());
    let deliveries: Vec<(String, uuid::Uuid)> = sqlx::query_as(
        "SELECT destination_id, id FROM deliveries WHERE event_id = $1 ORDER BY destination_id",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let destinations: Vec<&str> = deliveries.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(destinations, vec!["billing", "ledger"]);
    // Created with the event, each delivery's id starts with its event id's first 10 bytes (23
    // characters written out), so no index but the primary key needs an entry for it.
    for (_, delivery) in &deliveries {
        assert_eq!(delivery.to_string()[..23], id.to_string()[..23]);
        assert_ne!(delivery, &id);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_copies_of_one_event_store_it_once() {
    let app = spawn_app().await;
    let body = unique_body();
    let sent = github_headers(&body, "delivery-fifty");
    let responses = join_all((0..50).map(|_| app.post("github", &sent, body.clone()))).await;

    let mut statuses = Vec::new();
    let mut ids = Vec::new();
    for response in responses {
        statuses.push(response.status().as_u16());
        ids.push(json(response).await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        49,
        "{statuses:?}"
    );
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names the same hookgate id");
    assert_eq!(app.count("SELECT count(*) FROM events").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM deliveries").await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_copies_of_many_events_store_each_once_without_errors() {
    let app = spawn_app().await;
    let events: Vec<(String, Vec<(String, String)>)> = (0..20)
        .map(|n| {
            let body = unique_body();
            let headers = github_headers(&body, &format!("interleaved-{n}"));
            (body, headers)
        })
        .collect();
    // Every event 8 times, in an order that puts copies of different events side by side,
    // so concurrent commit batches carry the same events in different orders.
    let requests = (0..8).flat_map(|round| {
        let events = &events;
        (0..events.len()).map(move |i| &events[(i * 7 + round) % events.len()])
    });
    let responses =
        join_all(requests.map(|(body, headers)| app.post("github", headers, body.clone()))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 202).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        140,
        "{statuses:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM events").await, 20);
    assert_eq!(app.count("SELECT count(*) FROM deliveries").await, 40);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_answers_200_with_the_original_id_and_writes_no_delivery() {
    for redis in [None, Some(redis_url())] {
        let app = spawn_app_with(TestOptions {
            redis,
            ..Default::default()
        })
        .await;
        let body = unique_body();
        let sent = github_headers(&body, "delivery-dup");
        let first = json(app.post("github", &sent, body.clone()).await).await;
        for _ in 0..3 {
            let again = app.post("github", &sent, body.clone()).await;
            assert_eq!(again.status(), 200);
            let again = json(again).await;
            assert_eq!(again["status"], "duplicate");
            assert_eq!(again["id"], first["id"]);
            assert_eq!(again["event_id"], "delivery-dup");
        }
        assert_eq!(app.count("SELECT count(*) FROM deliveries").await, 2);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_ingest_and_deduplication_still_work() {
    let app = spawn_app_with(TestOptions {
        redis: Some("redis://127.0.0.1:1".into()),
        ..Default::default()
    })
    .await;
    let body = unique_body();
    let sent = github_headers(&body, "delivery-no-redis");
    assert_eq!(app.post("github", &sent, body.clone()).await.status(), 202);
    assert_eq!(app.post("github", &sent, body.clone()).await.status(), 200);
    let ready = app.readyz().await;
    assert_eq!(ready.status(), 200);
    assert_eq!(json(ready).await["redis"], "degraded");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_id_from_two_sources_is_two_events() {
    let app = spawn_app().await;
    let body = unique_body();
    let stripe = app
        .post(
            "stripe",
            &sign::stripe(secrets::STRIPE, body.as_bytes(), now()),
            body.clone(),
        )
        .await;
    let paddle = app
        .post(
            "paddle",
            &sign::paddle(secrets::PADDLE, body.as_bytes(), now()),
            body.clone(),
        )
        .await;
    assert_eq!(
        (stripe.status().as_u16(), paddle.status().as_u16()),
        (202, 202)
    );
    app.stop().await;
}

async fn assert_problem(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem = json(response).await;
    assert_eq!(problem["status"], status);
    assert_eq!(problem["code"], code);
    assert!(problem["type"].as_str().unwrap().ends_with(code));
    assert!(problem["title"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sources_and_routes_are_404_problems() {
    let app = spawn_app().await;
    let body = unique_body();
    assert_problem(
        app.post("nope", &github_headers(&body, "x"), body.clone())
            .await,
        404,
        "unknown_source",
    )
    .await;
    let other = app
        .http
        .get(format!("{}/elsewhere", app.ingest))
        .send()
        .await
        .unwrap();
    assert_problem(other, 404, "not_found").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_whether_declared_or_streamed() {
    let app = spawn_app().await;
    let big = vec![b'a'; 65_537];
    let declared = app
        .post("github", &github_headers("", "big"), big.clone())
        .await;
    assert_problem(declared, 413, "payload_too_large").await;

    let chunks = futures_util::stream::iter(
        (0..20).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'b'; 8192]))),
    );
    let streamed = app
        .http
        .post(app.webhook_url("github"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_problem(streamed, 413, "payload_too_large").await;
    let exact = vec![b'c'; 65_536];
    let at_limit = app
        .post(
            "github",
            &github_headers(std::str::from_utf8(&exact).unwrap(), "at-limit"),
            exact,
        )
        .await;
    assert_eq!(at_limit.status(), 202);
    assert_eq!(app.count("SELECT count(*) FROM events").await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_a_401_problem_with_a_short_code_and_nothing_is_stored() {
    let app = spawn_app().await;
    let body = unique_body();
    let wrong = sign::github("not the secret", body.as_bytes(), "bad");
    assert_problem(
        app.post("github", &wrong, body.clone()).await,
        401,
        "signature_mismatch",
    )
    .await;
    assert_problem(
        app.post("github", &[], body).await,
        401,
        "signature_missing",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM events").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_headers_and_bodies_never_produce_a_5xx() {
    let app = spawn_app().await;
    let huge = "a".repeat(7_000);
    let commas = ",".repeat(10_000);
    type Case<'a> = (&'a str, Vec<(String, String)>, Vec<u8>);
    let cases: Vec<Case> = vec![
        (
            "stripe",
            headers(&[("Stripe-Signature", &huge)]),
            b"{}".to_vec(),
        ),
        (
            "stripe",
            headers(&[("Stripe-Signature", &commas)]),
            b"{}".to_vec(),
        ),
        (
            "stripe",
            headers(&[(
                "Stripe-Signature",
                "t=99999999999999999999999999999999999999,v1=00",
            )]),
            b"{}".to_vec(),
        ),
        (
            "stripe",
            headers(&[("Stripe-Signature", "t=-5,v1=zz,v1=,=,,=v1")]),
            b"{}".to_vec(),
        ),
        (
            "slack",
            headers(&[
                ("X-Slack-Request-Timestamp", "1e309"),
                ("X-Slack-Signature", "v0="),
            ]),
            vec![],
        ),
        (
            "standard-webhooks",
            headers(&[
                ("webhook-id", ""),
                ("webhook-timestamp", "NaN"),
                ("webhook-signature", "v1,!!!! v1 v2,"),
            ]),
            vec![0xff, 0xfe, 0x00],
        ),
        (
            "github",
            headers(&[("X-Hub-Signature-256", "sha256=")]),
            vec![],
        ),
        (
            "github",
            headers(&[("X-Hub-Signature-256", "sha256=zz")]),
            vec![0x80; 100],
        ),
        (
            "shopify",
            headers(&[("X-Shopify-Hmac-Sha256", "====")]),
            b"\xc3\x28".to_vec(),
        ),
        (
            "paddle",
            headers(&[("Paddle-Signature", ";;;ts=;h1=;=;")]),
            b"[".to_vec(),
        ),
        (
            "twilio",
            headers(&[
                ("X-Twilio-Signature", "%%%"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ]),
            b"a=%ZZ&&=&b".to_vec(),
        ),
        (
            "square",
            headers(&[("x-square-hmacsha256-signature", &huge)]),
            b"{\"event_id\":".to_vec(),
        ),
        (
            "razorpay",
            headers(&[("X-Razorpay-Signature", &commas)]),
            b"null".to_vec(),
        ),
    ];
    for (source, sent, body) in cases {
        let response = app.post(source, &sent, body).await;
        assert_eq!(response.status(), 401, "{source}: {sent:?}");
    }
    // A header value with bytes that are not UTF-8 reaches the handler and is refused cleanly.
    let raw = reqwest::header::HeaderValue::from_bytes(b"sha256=\xff\xfe").unwrap();
    let response = app
        .http
        .post(app.webhook_url("github"))
        .header("X-Hub-Signature-256", raw)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(app.count("SELECT count(*) FROM events").await, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_on_both_listeners() {
    let app = spawn_app_with(TestOptions {
        redis: Some(redis_url()),
        ..Default::default()
    })
    .await;
    for base in [&app.ingest, &app.admin] {
        let health = app
            .http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let ready = app.http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        let ready = json(ready).await;
        assert_eq!(
            (
                ready["status"].as_str(),
                ready["database"].as_str(),
                ready["redis"].as_str()
            ),
            (Some("ready"), Some("up"), Some("up"))
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.ingest))
        .header("X-Request-Id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let generated = app
        .http
        .get(format!("{}/healthz", app.ingest))
        .send()
        .await
        .unwrap();
    assert!(!generated.headers()["x-request-id"].is_empty());
    app.stop().await;
}

/// A body large enough for Postgres to compress it is compressed with lz4 (migration 0015),
/// in the partitions that existed before that migration and in those created after it, and
/// reads back byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_is_stored_lz4_compressed_and_byte_exact() {
    let app = spawn_app().await;
    let items: Vec<String> = (0..200)
        .map(|n| format!(r#"{{"id":"li_{n}","amount":{},"quantity":1}}"#, n * 7))
        .collect();
    let body = format!(
        r#"{{"zen":"Keep it logically awesome.","items":[{}]}}"#,
        items.join(",")
    );
    assert!(body.len() > 8_000);
    let sent = github_headers(&body, "delivery-large-lz4");
    let response = app.post("github", &sent, body.clone()).await;
    assert_eq!(response.status(), 202);
    let id = uuid::Uuid::parse_str(json(response).await["id"].as_str().unwrap()).unwrap();

    let (stored, compression): (Vec<u8>, Option<String>) =
        sqlx::query_as("SELECT body, pg_column_compression(body) FROM events WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, body.as_bytes());
    assert_eq!(compression.as_deref(), Some("lz4"));
    let partition: String =
        sqlx::query_scalar("SELECT hookgate_create_event_partition(current_date + 40)")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let later: String = sqlx::query_scalar(
        "SELECT attcompression::text FROM pg_attribute \
         WHERE attrelid = $1::regclass AND attname = 'body'",
    )
    .bind(&partition)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(later, "l", "a partition created later inherits lz4");
    app.stop().await;
}
