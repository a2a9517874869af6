//! Drills: Postgres crashes while webhooks arrive, the process is killed mid-delivery or
//! stopped with deliveries in flight. Nothing answered 2xx may be lost.

use crate::certs::TestCa;
use crate::helpers::*;
use crate::https_delivery::{SINK_NAMES, tls_setting};
use crate::independent_sign as sign;
use crate::private_pg::PrivatePostgres;
use crate::process::ServeProcess;
use crate::sink::{Reply, Sink, SinkTls};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Posts a validly signed Stripe webhook with a new event id.
async fn post_new_stripe_event(app: &TestApp) -> reqwest::Response {
    let body = unique_body();
    app.post(
        "stripe",
        &sign::stripe(secrets::STRIPE, body.as_bytes(), now()),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_means_503_with_retry_after_and_ingest_recovers_after_restart() {
    let pg = PrivatePostgres::start();
    let app = spawn_app_with(TestOptions {
        server: Some(pg.url()),
        ..Default::default()
    })
    .await;
    let post_new = || post_new_stripe_event(&app);
    assert_eq!(post_new().await.status(), 202);

    pg.crash();
    let refused = post_new().await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(json(refused).await["code"], "storage_unavailable");
    let ready = app.readyz().await;
    assert_eq!(ready.status(), 503);

    pg.start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = post_new().await.status();
        if status == 202 {
            break;
        }
        assert_eq!(status, 503, "only 503 while recovering");
        assert!(
            Instant::now() < deadline,
            "ingest did not recover after Postgres restarted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = app.readyz().await;
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_acknowledged_under_load_is_delivered_despite_a_postgres_crash() {
    let pg = PrivatePostgres::start();
    let sink = Sink::ok();
    let app = Arc::new(
        spawn_app_with(TestOptions {
            server: Some(pg.url()),
            billing: Dest::at(&sink.url, "backoff_base_ms = 50\nbackoff_max_ms = 200"),
            ..Default::default()
        })
        .await,
    );
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let mut load = Vec::new();
    for _ in 0..8 {
        let (app, acknowledged) = (app.clone(), acknowledged.clone());
        let (refused, stop) = (refused.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let body = unique_body();
                let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
                let response = app.post("stripe", &headers, body).await;
                let status = response.status().as_u16();
                statuses.push(status);
                if status == 202 {
                    let ack = json(response).await;
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(ack["id"].as_str().unwrap().to_owned());
                } else {
                    refused.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    pg.crash();
    let deadline = Instant::now() + Duration::from_secs(20);
    while refused.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "no request saw the crash");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.start_again();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);

    let mut statuses = Vec::new();
    for task in load {
        statuses.extend(task.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 503),
        "only 202 or 503: {:?}",
        statuses
            .iter()
            .filter(|s| **s != 202 && **s != 503)
            .collect::<Vec<_>>()
    );

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "load flowed: {}",
        acknowledged.len()
    );
    // Every acknowledged event reaches the destination once Postgres is back.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: std::collections::HashSet<String> = sink
            .received()
            .iter()
            .map(|r| r.header("idempotency-key").to_owned())
            .collect();
        let missing = acknowledged
            .iter()
            .filter(|id| !delivered.contains(*id))
            .count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} acknowledged events never delivered",
            acknowledged.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Posts one new GitHub event to `ingest`; answers its hookgate id.
pub async fn post_github(ingest: &str) -> String {
    post_github_body(ingest, unique_body()).await
}

/// Posts a GitHub event with `body` (each must be new) to `ingest`; answers its hookgate id.
pub async fn post_github_body(ingest: &str, body: String) -> String {
    let headers = sign::github(
        secrets::GITHUB,
        body.as_bytes(),
        &uuid::Uuid::now_v7().to_string(),
    );
    let mut request = http().post(format!("{ingest}/webhooks/github")).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 202);
    json(response).await["id"].as_str().unwrap().to_owned()
}

async fn billing_delivery(db: &sqlx::PgPool, event: &str) -> (String, i32) {
    sqlx::query_as("SELECT state, attempts FROM deliveries WHERE event_id = $1::uuid AND destination_id = 'billing'")
        .bind(event)
        .fetch_one(db)
        .await
        .unwrap()
}

/// The kill -9 drill: the first attempt hangs at the destination, the process dies with it in
/// flight, and a restarted hookgate delivers it again, with the same idempotency key, once its
/// lease has expired. `start_sink` starts the destination from a script and a fallback reply;
/// `settings` are added to its config.
async fn killed_mid_delivery_then_delivered_after_restart(
    start_sink: impl FnOnce(Vec<Reply>, Reply) -> Sink,
    settings: &str,
) {
    let sink = start_sink(
        vec![Reply::status(200).after(Duration::from_secs(30))],
        Reply::status(200),
    );
    let billing = Dest::at(&sink.url, &format!("timeout_ms = 1000\n{settings}"));
    let database_url = create_database(&server_url()).await;
    let text = config_text(&database_url, &billing, &Dest::default(), "");
    let mut process = ServeProcess::start(&text);
    let event = post_github(&process.ingest).await;
    sink.wait_for(1, Duration::from_secs(15)).await;
    process.signal("KILL");
    process.wait_exit(Duration::from_secs(10));

    let app = start(&text, database_url, hookgate::app::Role::All).await;
    assert_eq!(billing_delivery(&app.db, &event).await.0, "in_flight");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (state, attempts) = billing_delivery(&app.db, &event).await;
        if state == "delivered" {
            assert_eq!(attempts, 2);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {state} after the lease expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].header("idempotency-key"),
        received[1].header("idempotency-key")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_in_flight_when_the_process_is_killed_is_delivered_after_restart() {
    killed_mid_delivery_then_delivered_after_restart(Sink::start, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_delivery_in_flight_when_the_process_is_killed_is_delivered_after_restart() {
    let ca = TestCa::new("hookgate test CA");
    let cert = ca.server("sink", SINK_NAMES);
    killed_mid_delivery_then_delivered_after_restart(
        |script, fallback| Sink::start_https(script, fallback, SinkTls::serving(cert)),
        &tls_setting(&ca, None),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_deliveries_in_flight_finish_and_exits_zero() {
    let sink = Sink::start(
        Vec::new(),
        Reply::status(200).after(Duration::from_millis(800)),
    );
    let database_url = create_database(&server_url()).await;
    let text = config_text(
        &database_url,
        &Dest::at(&sink.url, ""),
        &Dest::default(),
        "",
    );
    let mut process = ServeProcess::start(&text);
    let mut events = Vec::new();
    for _ in 0..5 {
        events.push(post_github(&process.ingest).await);
    }
    sink.wait_for(5, Duration::from_secs(15)).await;
    process.signal("TERM");
    let status = process.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");

    let db = sqlx::PgPool::connect(&database_url).await.unwrap();
    for event in events {
        assert_eq!(
            billing_delivery(&db, &event).await,
            ("delivered".to_owned(), 1)
        );
    }
}

/// The writer retries a batch once when the connection breaks; if the first try had committed,
/// its events come back as already stored. Those stored under the very id this batch carries
/// are this batch's own and must be answered as accepted (202), not as duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_whose_first_try_committed_is_reported_accepted() {
    use hookgate::store::{InsertOutcome, NewDelivery, NewEvent, Store};
    let app = spawn_app_with(TestOptions {
        role: hookgate::app::Role::Ingest,
        ..Default::default()
    })
    .await;
    let store = Store::connect_lazy(&app.database_url, 2).unwrap();
    let event = |event_id: &str| NewEvent {
        id: uuid::Uuid::now_v7(),
        source_id: "github".into(),
        event_id: event_id.to_owned(),
        event_type: Some("push".into()),
        received_at: time::OffsetDateTime::now_utc(),
        content_type: Some("application/json".into()),
        headers_json: "{}".into(),
        body: bytes::Bytes::from_static(b"{}"),
        deliveries: vec![NewDelivery {
            id: uuid::Uuid::now_v7(),
            destination_id: "billing".into(),
            lease: None,
            ordering_key: None,
        }],
        filtered: Vec::new(),
    };
    let batch = vec![event("retried-1"), event("retried-2")];
    let first_try = store.insert_events(&batch).await.unwrap();
    let retry = store.insert_events(&batch).await.unwrap();
    let accepted: Vec<_> = batch
        .iter()
        .map(|e| InsertOutcome::Accepted(e.id))
        .collect();
    assert_eq!(first_try, accepted);
    assert_eq!(retry, accepted, "the retry's events are its own");

    let other_request = event("retried-1");
    assert_eq!(
        store.insert_events(&[other_request]).await.unwrap(),
        vec![InsertOutcome::Duplicate(batch[0].id)],
        "another request with the same event id is still a duplicate"
    );
    assert_eq!(app.count("SELECT count(*) FROM deliveries").await, 2);
    app.stop().await;
}

/// The ingest writer keeps its Postgres connection from one commit to the next. When Postgres
/// ends that connection (a restart, a failover, an administrator's `pg_terminate_backend`),
/// the next webhook must still be stored and acknowledged: the writer takes a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_after_postgres_ended_the_writers_connection_is_stored() {
    let app = spawn_app_with(TestOptions {
        role: hookgate::app::Role::Ingest,
        ..Default::default()
    })
    .await;
    let post_new = || async { post_new_stripe_event(&app).await.status() };
    assert_eq!(post_new().await, 202);
    let ended = app
        .count(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'hookgate') ended",
        )
        .await;
    assert!(ended >= 1, "the writer's connection was open");
    for _ in 0..3 {
        assert_eq!(post_new().await, 202);
    }
    assert_eq!(app.count("SELECT count(*) FROM events").await, 4);
    app.stop().await;
}
