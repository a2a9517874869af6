//! `kind = "redis-stream"` destinations against a real redis-server of the test's own (durable:
//! append-only file, fsync before each answer): every acknowledged event ends up in the stream
//! byte-exact with the HTTP delivery's metadata, across a kill and restart of Redis mid-run.

use crate::broker_load::{BrokerRoute, Sent, report, send_through_outage, wait_for_every_event};
use crate::helpers::*;
use crate::private_redis::PrivateRedis;
use redis::streams::StreamRangeReply;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

const EVENTS: usize = 1000;
const SENDERS: usize = 10;

/// A `redis-stream` destination on `url` fed by the GitHub source `streamed`.
fn streamed(url: &str, stream: &str) -> String {
    BrokerRoute {
        id: "stream",
        kind: "redis-stream",
        url,
        target: &format!("stream = \"{stream}\""),
        max_attempts: 100,
        source: "streamed",
    }
    .config()
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

    let found = wait_for_every_event(&app, &sent, async || {
        entries(&redis.url(), &stream)
            .await
            .into_iter()
            .map(|entry| {
                let id = String::from_utf8_lossy(&entry["idempotency-key"]).into_owned();
                (id, entry)
            })
            .collect()
    })
    .await;
    for (id, entry) in &found {
        let field = |name: &str| String::from_utf8(entry[name].clone()).unwrap();
        assert_eq!(entry["body"], sent[id], "body of {id}");
        assert_eq!(field("x-hookgate-event-id"), *id);
        assert_eq!(field("x-hookgate-source"), "streamed");
        assert_eq!(field("x-hookgate-event-type"), "push");
        assert_eq!(field("content-type"), "application/json");
        assert!(field("x-hookgate-attempt").parse::<u32>().unwrap() >= 1);
        assert!(Uuid::parse_str(&field("x-hookgate-delivery-id")).is_ok());
    }
    report("redis-stream", &app, sent.len(), &found).await;
    app.stop().await;
}
