//! Ordered delivery per key (a destination's `ordering`): deliveries that share a key reach
//! the destination in ingest order and one at a time, through random failures, a dead head
//! (blocking only its key until skipped or replayed), pull leases, and two processes sharing
//! the queue with one killed by `kill -9`.

use crate::durability::post_github_body;
use crate::helpers::*;
use crate::process::ServeProcess;
use crate::pull::{end, lease, lease_id};
use crate::sink::{Received, Reply, Sink};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(180);
const DELIVERED: &str =
    "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'delivered'";

/// An ordered `billing` at `url`, retried fast and without ever opening its circuit, with
/// `on_dead` and `max_attempts` as given.
fn ordered(url: &str, on_dead: &str, max_attempts: u32) -> Dest {
    Dest::at(
        url,
        &format!(
            "ordering = {{ key = \"/customer\", on_dead = \"{on_dead}\" }}\n\
             max_attempts = {max_attempts}\nbackoff_base_ms = 5\nbackoff_max_ms = 40\n\
             timeout_ms = 5000\ncircuit = {{ failure_threshold = 1000000 }}\n"
        ),
    )
}

/// `ledger` gives up on its first failure: it only adds load.
fn ledger() -> Dest {
    Dest::at("http://127.0.0.1:9/", "max_attempts = 1")
}

/// A body of key `key`, number `seq` in that key's stream.
fn body(key: &str, seq: usize) -> String {
    json!({"customer": key, "seq": seq, "nonce": unique_body()}).to_string()
}

/// What one request to the sink was: its key and number.
fn key_and_seq(received: &Received) -> (String, usize) {
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    let seq = body["seq"].as_u64().unwrap() as usize;
    (body["customer"].as_str().unwrap().to_owned(), seq)
}

/// Sends the events numbered `seqs` of each of `keys` keys, the keys concurrently and each
/// key's events one after the other (each acknowledged before the next is sent: that is the
/// ingest order), spread over `ingests`.
async fn send_streams(ingests: &[String], keys: usize, seqs: std::ops::Range<usize>) {
    let streams = (0..keys).map(|k| {
        let (ingests, seqs) = (ingests.to_vec(), seqs.clone());
        tokio::spawn(async move {
            for seq in seqs {
                let ingest = &ingests[(k + seq) % ingests.len()];
                post_github_body(ingest, body(&format!("k{k}"), seq)).await;
            }
        })
    });
    for stream in futures_util::future::join_all(streams).await {
        stream.unwrap();
    }
}

/// Checks the sink's requests of every key: each request is for the key's next event not yet
/// delivered (so the key's successes come in ingest order, none skipped), or `repeats` allows
/// it to be the one just delivered again (at least once across a kill); no request of a key
/// starts before the sink answered the previous one. Answers the requests per key.
fn assert_in_order_one_at_a_time(received: &[Received], repeats: bool) -> BTreeMap<String, usize> {
    let mut by_key: HashMap<String, Vec<&Received>> = HashMap::new();
    for request in received {
        by_key
            .entry(key_and_seq(request).0)
            .or_default()
            .push(request);
    }
    let mut next_by_key = BTreeMap::new();
    for (key, mut requests) in by_key {
        requests.sort_by_key(|r| r.at);
        let mut next = 0;
        for pair in requests.windows(2) {
            let answered = pair[0].answered.get().copied();
            assert!(
                answered.is_some_and(|answered| answered <= pair[1].at),
                "key {key}: seq {} arrived while seq {} was in flight",
                key_and_seq(pair[1]).1,
                key_and_seq(pair[0]).1
            );
        }
        for request in requests {
            let seq = key_and_seq(request).1;
            let repeat = repeats && next > 0 && seq == next - 1;
            assert!(
                seq == next || repeat,
                "key {key}: got seq {seq} while {next} was not delivered yet"
            );
            if request.status == 200 && !repeat {
                next += 1;
            }
        }
        next_by_key.insert(key, next);
    }
    next_by_key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_key_arrives_in_ingest_order_one_at_a_time_through_random_failures() {
    const KEYS: usize = 100;
    const PER_KEY: usize = 50;
    // One request in five fails, at random (from a UUIDv7's random low bits), until well
    // past the run's end.
    let fails = || uuid::Uuid::now_v7().as_u128().is_multiple_of(5);
    let script: Vec<Reply> = (0..4 * KEYS * PER_KEY)
        .map(|_| Reply::status(if fails() { 500 } else { 200 }))
        .collect();
    let sink = Sink::start(script, Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: ordered(&sink.url, "block", 1000),
        ledger: ledger(),
        ..Default::default()
    })
    .await;

    send_streams(std::slice::from_ref(&app.ingest), KEYS, 0..PER_KEY).await;
    app.wait_count(DELIVERED, (KEYS * PER_KEY) as i64, WAIT)
        .await;

    let received = sink.received();
    let delivered = assert_in_order_one_at_a_time(&received, false);
    assert_eq!(delivered.len(), KEYS);
    assert!(delivered.values().all(|n| *n == PER_KEY), "{delivered:?}");
    let failed = received.iter().filter(|r| r.status != 200).count();
    assert!(failed > 0, "the sink failed some requests");
    println!(
        "ordering: {} events over {KEYS} keys, {} requests, {failed} failed",
        KEYS * PER_KEY,
        received.len()
    );
}

/// The hookgate id of the first delivery of key `key` to `billing`, by ingest order.
async fn delivery_of(app: &TestApp, key: &str, seq: usize) -> (String, String) {
    sqlx::query_as(
        "SELECT d.id::text, d.event_id::text FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.destination_id = 'billing' AND d.ordering_key = $1
           AND convert_from(e.body, 'UTF8')::jsonb ->> 'seq' = $2
         ORDER BY d.id LIMIT 1",
    )
    .bind(key)
    .bind(seq.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn blocked_keys(app: &TestApp) -> Vec<Value> {
    let response = app
        .admin_get("/admin/destinations/billing/blocked-keys")
        .await;
    assert_eq!(response.status(), 200);
    json(response).await["blocked_keys"]
        .as_array()
        .unwrap()
        .clone()
}

/// Skips `key` of `billing`; answers the dead deliveries it skipped.
async fn skip_key(app: &TestApp, key: &str) -> Value {
    let body = json!({ "key": key }).to_string();
    let response = app
        .admin_post("/admin/destinations/billing/blocked-keys/skip", body)
        .await;
    assert_eq!(response.status(), 200);
    json(response).await["skipped"].clone()
}

/// The sequence numbers the sink got for `key`, in arrival order.
fn arrived(sink: &Sink, key: &str) -> Vec<usize> {
    let mut received = sink.received();
    received.sort_by_key(|r| r.at);
    received
        .iter()
        .map(key_and_seq)
        .filter(|(k, _)| k == key)
        .map(|(_, seq)| seq)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_head_blocks_only_its_key_until_skipped_or_replayed() {
    // The first attempts of "a" and "c" are refused, and with one attempt allowed they die.
    let sink = Sink::start(vec![Reply::status(500); 2], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: ordered(&sink.url, "block", 1),
        ledger: ledger(),
        ..Default::default()
    })
    .await;
    let dead =
        "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'dead'";
    post_github_body(&app.ingest, body("a", 0)).await;
    app.wait_count(dead, 1, WAIT).await;
    post_github_body(&app.ingest, body("c", 0)).await;
    app.wait_count(dead, 2, WAIT).await;
    for key in ["a", "c"] {
        for seq in 1..3 {
            post_github_body(&app.ingest, body(key, seq)).await;
        }
    }
    // Sent after the blocked keys' events, so every claim that took them had "a" and "c"
    // (due earlier) before them: those were held back, not just not reached yet.
    for seq in 0..2 {
        post_github_body(&app.ingest, body("b", seq)).await;
    }
    sink.wait_for(4, WAIT).await;
    assert_eq!(arrived(&sink, "b"), [0, 1]);
    assert_eq!(arrived(&sink, "a"), [0]);
    assert_eq!(arrived(&sink, "c"), [0]);
    let blocked = blocked_keys(&app).await;
    let (a_head, _) = delivery_of(&app, "a", 0).await;
    let (_, c_event) = delivery_of(&app, "c", 0).await;
    assert_eq!(blocked.len(), 2, "{blocked:?}");
    assert_eq!(blocked[0]["key"], "a");
    assert_eq!(blocked[0]["delivery_id"], a_head.as_str());
    assert_eq!(blocked[0]["waiting"], 2);
    assert_eq!(blocked[1]["key"], "c");

    // Skipping "a" lets its next events go; the dead one stays dead.
    assert_eq!(skip_key(&app, "a").await, json!([a_head]));
    // Replaying "c"'s dead event puts it back at its place: delivered first, then the rest.
    let replayed = app
        .admin_post(&format!("/admin/events/{c_event}/replay"), "")
        .await;
    assert_eq!(replayed.status(), 202);
    sink.wait_for(9, WAIT).await;
    assert_eq!(arrived(&sink, "a"), [0, 1, 2]);
    assert_eq!(arrived(&sink, "c"), [0, 0, 1, 2]);
    assert!(blocked_keys(&app).await.is_empty());
    assert_eq!(
        skip_key(&app, "a").await,
        json!([]),
        "skipping is idempotent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_on_dead_skip_a_dead_head_lets_the_next_one_go() {
    let sink = Sink::start(vec![Reply::status(500)], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: ordered(&sink.url, "skip", 1),
        ledger: ledger(),
        ..Default::default()
    })
    .await;
    for seq in 0..3 {
        post_github_body(&app.ingest, body("a", seq)).await;
    }
    sink.wait_for(3, WAIT).await;
    assert_eq!(arrived(&sink, "a"), [0, 1, 2]);
    assert!(blocked_keys(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_consumer_leases_only_the_head_of_each_key() {
    let app = spawn_app_with(TestOptions {
        billing: Dest::at("http://127.0.0.1:9/", "max_attempts = 1"),
        ledger: Dest::pull("ordering = { key = \"/customer\" }"),
        ..Default::default()
    })
    .await;
    for key in ["a", "b"] {
        for seq in 0..3 {
            post_github_body(&app.ingest, body(key, seq)).await;
        }
    }
    post_github_body(&app.ingest, json!({"no": "key"}).to_string()).await;
    let seqs = |messages: &[Value]| -> Vec<(String, i64)> {
        let mut seqs: Vec<_> = messages
            .iter()
            .map(|m| {
                let body = &m["body"];
                (
                    body["customer"].as_str().unwrap_or("-").to_owned(),
                    body["seq"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        seqs.sort();
        seqs
    };
    let first = lease(&app, json!({"max": 100})).await;
    let pairs = |list: &[(&str, i64)]| -> Vec<(String, i64)> {
        list.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    };
    assert_eq!(seqs(&first), pairs(&[("-", -1), ("a", 0), ("b", 0)]));
    assert!(
        lease(&app, json!({"max": 100})).await.is_empty(),
        "heads held"
    );

    // "a"'s head is nacked: "a" waits for it while "b" goes on.
    let by_key = |messages: &[Value], key: &str| -> String {
        let message = messages
            .iter()
            .find(|m| m["body"]["customer"] == key)
            .unwrap();
        lease_id(message).to_owned()
    };
    let (a0, b0) = (by_key(&first, "a"), by_key(&first, "b"));
    assert_eq!(
        end(&app, "nack", json!({"delay_ms": 60000}), &[&a0]).await,
        ["nacked"]
    );
    assert_eq!(end(&app, "ack", json!({}), &[&b0]).await, ["acked"]);
    let second = lease(&app, json!({"max": 100})).await;
    assert_eq!(seqs(&second), pairs(&[("b", 1)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_keep_each_key_in_order_when_one_is_killed() {
    const KEYS: usize = 20;
    const PER_KEY: usize = 30;
    // Slow enough answers that the victim dies with deliveries in flight.
    let sink = Sink::start(vec![], Reply::status(200).after(Duration::from_millis(100)));
    let database = create_database(&server_url()).await;
    let config = config_text(
        &database.url,
        &ordered(&sink.url, "block", 1000),
        &ledger(),
        "",
    );
    let survivor = ServeProcess::start(&config);
    let victim = ServeProcess::start(&config);
    let ingests = [survivor.ingest.clone(), victim.ingest.clone()];
    send_streams(&ingests, KEYS, 0..PER_KEY / 2).await;
    sink.wait_for(KEYS, WAIT).await;
    victim.signal("KILL");
    send_streams(
        std::slice::from_ref(&survivor.ingest),
        KEYS,
        PER_KEY / 2..PER_KEY,
    )
    .await;
    let db = sqlx::PgPool::connect(&database.url).await.unwrap();
    wait_count(&db, DELIVERED, (KEYS * PER_KEY) as i64, WAIT).await;
    let received = sink.received();
    let delivered = assert_in_order_one_at_a_time(&received, true);
    assert_eq!(delivered.len(), KEYS);
    assert!(delivered.values().all(|n| *n == PER_KEY), "{delivered:?}");
    println!(
        "ordering across a kill: {} events over {KEYS} keys, {} requests",
        KEYS * PER_KEY,
        received.len()
    );
}
