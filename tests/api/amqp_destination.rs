//! `kind = "amqp"` destinations against a RabbitMQ node of the test's own: a missing exchange
//! and then a message no queue takes (published `mandatory`) are retried until a queue is
//! bound, and every acknowledged event ends up in the queue byte-exact with the HTTP delivery's
//! metadata, across a kill -9 and restart of the node mid-run.

use crate::broker_load::{
    BrokerRoute, report, send_through_outage, start_before_the_broker_is_ready,
    wait_for_every_event,
};
use crate::private_rabbitmq::PrivateRabbitMq;
use lapin::options::QueueDeclareOptions;
use lapin::options::{BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use std::time::{Duration, Instant};
use uuid::Uuid;

const EVENTS: usize = 1000;
const SENDERS: usize = 10;
const ROUTING_KEY: &str = "github.push";

/// An `amqp` destination publishing to `exchange` at `url`, fed by the GitHub source
/// `published`.
fn published(url: &str, exchange: &str) -> String {
    BrokerRoute {
        id: "rabbit",
        kind: "amqp",
        url,
        target: &format!("exchange = \"{exchange}\"\nrouting_key = \"{ROUTING_KEY}\""),
        max_attempts: 200,
        source: "published",
    }
    .config()
}

/// A channel on a new connection to `url`, retried for a minute while the node is starting
/// (it may refuse, or accept and answer nothing for a while).
async fn channel_of(url: &str) -> Channel {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let opening = async {
            let connection = Connection::connect(url, ConnectionProperties::default()).await?;
            connection.create_channel().await
        };
        match tokio::time::timeout(Duration::from_secs(10), opening).await {
            Ok(Ok(channel)) => return channel,
            outcome => assert!(
                Instant::now() < deadline,
                "no channel on RabbitMQ within a minute: {outcome:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn declare_exchange(channel: &Channel, exchange: &str) {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
        .expect("declare the exchange");
}

/// Declares the durable `queue` and binds it to `exchange` under [`ROUTING_KEY`].
async fn bind_queue(channel: &Channel, queue: &str, exchange: &str) {
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .expect("declare the queue");
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            ROUTING_KEY.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind the queue");
}

/// A message as read from the queue.
#[derive(Clone)]
struct Received {
    properties: BasicProperties,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> String {
        let headers = self.properties.headers().as_ref().expect("a headers table");
        match headers.inner().get(name) {
            Some(AMQPValue::LongString(value)) => String::from_utf8_lossy(value.as_bytes()).into(),
            other => panic!("header {name}: {other:?}"),
        }
    }
}

/// Takes every message waiting in `queue` (none when the node cannot be reached right now).
async fn take_all(url: &str, queue: &str) -> Vec<Received> {
    // A node that is still starting may accept the connection and answer nothing for a while.
    let opening = async {
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        lapin::Result::Ok((connection, channel))
    };
    let Ok(Ok((connection, channel))) =
        tokio::time::timeout(Duration::from_secs(10), opening).await
    else {
        return Vec::new();
    };
    // A message handed over without an ack has left the queue, so a take cut short between
    // the broker's answer and the push below would lose it for good: a node that stops
    // answering now fails the test instead.
    let mut taken = Vec::new();
    let options = BasicGetOptions { no_ack: true };
    let get = || {
        let getting = channel.basic_get(queue.into(), options);
        tokio::time::timeout(Duration::from_secs(60), getting)
    };
    while let Ok(Some(message)) = get().await.expect("the node answers basic.get") {
        taken.push(Received {
            properties: message.delivery.properties.clone(),
            body: message.delivery.data.clone(),
        });
    }
    // What was taken is kept whatever the close does.
    let closing = connection.close(200, "taken".into());
    let _ = tokio::time::timeout(Duration::from_secs(10), closing).await;
    taken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unroutable_messages_are_retried_and_every_event_lands_once_across_a_node_kill() {
    let mut rabbit = PrivateRabbitMq::start();
    let exchange = format!("hooks-{}", Uuid::now_v7().simple());
    let queue = format!("billing-{}", Uuid::now_v7().simple());
    // No exchange yet: the broker closes the channel (404), and the attempt fails.
    let config = published(&rabbit.url(), &exchange);
    let (app, sent) = start_before_the_broker_is_ready(&config, "NOT_FOUND").await;
    // The exchange exists but no queue is bound: mandatory publishing makes that a failure.
    let setup = channel_of(&rabbit.url()).await;
    declare_exchange(&setup, &exchange).await;
    app.wait_count(
        "SELECT count(*) FROM delivery_attempts WHERE error LIKE '%NO_ROUTE%'",
        3,
        Duration::from_secs(30),
    )
    .await;
    bind_queue(&setup, &queue, &exchange).await;

    send_through_outage(
        &app.ingest,
        "published",
        (EVENTS, SENDERS),
        &sent,
        &mut rabbit,
    )
    .await;
    // A node killed moments after a declaration may come back without it (RabbitMQ writes its
    // definitions lazily: a binding made a second before the kill was seen lost), so the
    // test declares its topology again, as a RabbitMQ application does on reconnecting; until
    // then hookgate's attempts fail NO_ROUTE and are retried.
    let setup = channel_of(&rabbit.url()).await;
    declare_exchange(&setup, &exchange).await;
    bind_queue(&setup, &queue, &exchange).await;
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), EVENTS + 10);

    let mut received: Vec<(String, Received)> = Vec::new();
    let found = wait_for_every_event(&app, &sent, async || {
        for message in take_all(&rabbit.url(), &queue).await {
            received.push((message.header("Idempotency-Key"), message));
        }
        received.clone()
    })
    .await;
    for (id, message) in &found {
        assert_eq!(message.body, sent[id], "body of {id}");
        let properties = &message.properties;
        assert_eq!(
            properties.message_id().as_ref().map(|m| m.as_str()),
            Some(id.as_str())
        );
        assert_eq!(
            properties.content_type().as_ref().map(|c| c.as_str()),
            Some("application/json")
        );
        assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
        assert_eq!(message.header("X-Hookgate-Event-Id"), *id);
        assert_eq!(message.header("X-Hookgate-Source"), "published");
        assert_eq!(message.header("X-Hookgate-Event-Type"), "push");
        assert!(
            message
                .header("X-Hookgate-Delivery-Id")
                .parse::<Uuid>()
                .is_ok()
        );
        assert!(message.header("X-Hookgate-Attempt").parse::<u32>().is_ok());
    }
    report("amqp", &app, sent.len(), &found).await;
    app.stop().await;
}
