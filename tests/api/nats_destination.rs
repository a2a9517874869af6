//! `kind = "nats"` destinations against a real nats-server with JetStream of the test's own:
//! a subject no stream takes is retried until a stream does, and every acknowledged event ends
//! up in the stream byte-exact with the HTTP delivery's metadata, across a kill -9 and restart
//! of the server mid-run, JetStream's duplicate window (`Nats-Msg-Id`) dropping repeats.

use crate::broker_load::{
    BrokerRoute, report, send_through_outage, start_before_the_broker_is_ready,
    wait_for_every_event,
};
use crate::private_nats::PrivateNats;
use async_nats::jetstream;
use std::collections::HashMap;
use uuid::Uuid;

const EVENTS: usize = 1000;
const SENDERS: usize = 10;

/// A `nats` destination on `url` fed by the GitHub source `published`.
fn published(url: &str, subject: &str) -> String {
    BrokerRoute {
        id: "bus",
        kind: "nats",
        url,
        target: &format!("subject = \"{subject}\""),
        max_attempts: 200,
        source: "published",
    }
    .config()
}

async fn jetstream_of(url: &str) -> jetstream::Context {
    jetstream::new(async_nats::connect(url).await.expect("connect to nats"))
}

/// A message's headers (name → value) and payload.
type Message = (HashMap<String, String>, Vec<u8>);

/// Every message of stream `name`, under its Idempotency-Key.
async fn messages(url: &str, name: &str) -> Vec<(String, Message)> {
    let Ok(client) = async_nats::connect(url).await else {
        return Vec::new();
    };
    let js = jetstream::new(client);
    let Ok(mut stream) = js.get_stream(name).await else {
        return Vec::new();
    };
    let Ok(info) = stream.info().await else {
        return Vec::new();
    };
    let (first, last) = (info.state.first_sequence, info.state.last_sequence);
    let mut found = Vec::new();
    for sequence in first..=last {
        let Ok(message) = stream.get_raw_message(sequence).await else {
            continue;
        };
        let headers: HashMap<String, String> = message
            .headers
            .iter()
            .map(|(name, values)| {
                (
                    name.to_string(),
                    values.first().map(|v| v.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        let key = headers.get("Idempotency-Key").cloned().unwrap_or_default();
        found.push((key, (headers, message.payload.to_vec())));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_stream_is_retried_and_every_event_lands_once_across_a_server_kill() {
    let mut nats = PrivateNats::start();
    let name = format!("HOOKS_{}", Uuid::now_v7().simple());
    let subject = format!("hooks.{}", Uuid::now_v7().simple());
    // No stream takes the subject yet: the first events fail and are retried.
    let config = published(&nats.url(), &subject);
    let no_stream = "no JetStream stream takes subject";
    let (app, sent) = start_before_the_broker_is_ready(&config, no_stream).await;
    jetstream_of(&nats.url())
        .await
        .create_stream(jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .expect("create the stream");

    send_through_outage(
        &app.ingest,
        "published",
        (EVENTS, SENDERS),
        &sent,
        &mut nats,
    )
    .await;
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), EVENTS + 10);

    let found =
        wait_for_every_event(&app, &sent, async || messages(&nats.url(), &name).await).await;
    for (id, (headers, payload)) in &found {
        assert_eq!(payload, &sent[id], "body of {id}");
        assert_eq!(headers["X-Hookgate-Event-Id"], *id);
        assert_eq!(headers["X-Hookgate-Source"], "published");
        assert_eq!(headers["Content-Type"], "application/json");
        assert_eq!(headers["Nats-Msg-Id"], format!("{id}:bus"));
    }
    report("nats", &app, sent.len(), &found).await;
    app.stop().await;
}
