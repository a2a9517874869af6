//! `kind = "redis-stream"` destinations against a real redis-server of the test's own (durable:
//! append-only file, fsync before each answer): every acknowledged event ends up in the stream
//! byte-exact with the HTTP delivery's metadata, across a kill and restart of Redis mid-run.

use crate::broker_load::{Sent, send_through_outage};
use crate::drill::figures;
use crate::helpers::*;
use crate::private_redis::PrivateRedis;
use redis::streams::StreamRangeReply;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const EVENTS: usize = 1000;
const SENDERS: usize = 10;

/// A `redis-stream` destination on `url` fed by the GitHub source `streamed`.
fn streamed(url: &str, stream: &str) -> String {
    format!(
        r#"
[[destinations]]
id = "stream"
kind = "redis-stream"
url = "{url}"
stream = "{stream}"
timeout_ms = 2000
max_attempts = 100
backoff_base_ms = 50
backoff_max_ms = 500
circuit = {{ failure_threshold = 5, cool_down_ms = 200, max_cool_down_ms = 1000 }}

[[sources]]
id = "streamed"
provider = "github"
secrets = [{:?}]
destinations = ["stream"]
"#,
        secrets::GITHUB
    )
}

/// Every entry of the stream, oldest first.
async fn entries(url: &str, stream: &str) -> Vec<HashMap<String, Vec<u8>>> {
    let client = redis::Client::open(url).unwrap();
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
        return Vec::new();
    };
    let reply: StreamRangeReply = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut connection)
        .await
        .unwrap_or_default();
    reply
        .ids
        .iter()
        .map(|entry| {
            entry
                .map
                .keys()
                .filter_map(|field| Some((field.clone(), entry.get::<Vec<u8>>(field)?)))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_event_lands_in_the_stream_byte_exact_across_a_redis_restart() {
    let mut redis = PrivateRedis::start_durable();
    let stream = format!("hookgate-{}", Uuid::now_v7().simple());
    let database = create_database(&server_url()).await;
    let text = default_config_text(&database.url) + &streamed(&redis.url(), &stream);
    let app = start(&text, database, hookgate::app::Role::default()).await;

    let sent: Sent = Arc::default();
    send_through_outage(
        &app.ingest,
        "streamed",
        (EVENTS, SENDERS),
        &sent,
        &mut redis,
    )
    .await;
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), EVENTS);

    let deadline = Instant::now() + Duration::from_secs(120);
    let entries = loop {
        let entries = entries(&redis.url(), &stream).await;
        let keys: std::collections::HashSet<&[u8]> = entries
            .iter()
            .filter_map(|entry| entry.get("idempotency-key").map(Vec::as_slice))
            .collect();
        if sent.keys().all(|id| keys.contains(id.as_bytes())) {
            break entries;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {EVENTS} events in the stream",
            keys.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let mut copies: HashMap<String, usize> = HashMap::new();
    for entry in &entries {
        let field = |name: &str| String::from_utf8(entry[name].clone()).unwrap();
        let id = field("idempotency-key");
        assert_eq!(entry["body"], sent[&id], "body of {id}");
        assert_eq!(field("x-hookgate-event-id"), id);
        assert_eq!(field("x-hookgate-source"), "streamed");
        assert_eq!(field("x-hookgate-event-type"), "push");
        assert_eq!(field("content-type"), "application/json");
        assert!(field("x-hookgate-attempt").parse::<u32>().unwrap() >= 1);
        assert!(Uuid::parse_str(&field("x-hookgate-delivery-id")).is_ok());
        *copies.entry(id).or_default() += 1;
    }
    let duplicates = copies.values().filter(|&&n| n > 1).count();
    // The outage was felt: attempts failed while Redis was down, and were retried.
    let failed = app
        .count("SELECT count(*) FROM delivery_attempts WHERE error IS NOT NULL")
        .await;
    assert!(
        failed > 0,
        "no attempt failed: Redis was never down during delivery"
    );
    figures(
        "redis-stream",
        &[
            ("acked", EVENTS.to_string()),
            ("in_stream", copies.len().to_string()),
            ("entries", entries.len().to_string()),
            ("duplicates", duplicates.to_string()),
            ("failed_attempts", failed.to_string()),
        ],
    );
    app.stop().await;
}
