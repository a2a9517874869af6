//! The far ends of the broker destinations, for the routes phase. Before a run, what hookgate's
//! destination publishes into is made (a JetStream stream taking the subject, a durable queue
//! bound to `amq.direct`; a Redis stream needs nothing: `XADD` makes it); after it, what
//! arrived is counted, since every delivery hookgate counted delivered must be there, and it is
//! deleted. One name per run serves as all of these: the Redis stream's key, the JetStream
//! stream and its subject, the RabbitMQ queue and its routing key.

use async_nats::jetstream;
use clap::ValueEnum;
use lapin::options::{QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use serde::{Deserialize, Serialize};

/// The exchange the `amqp` destination of the routes phase publishes to, with the run's name as
/// the routing key: RabbitMQ's predeclared direct exchange, so nothing but the queue is made.
pub const AMQP_EXCHANGE: &str = "amq.direct";

/// A broker destination kind, named as in hookgate's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    RedisStream,
    Nats,
    Amqp,
}

/// What to do with a run's stream, subject or queue.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Action {
    /// Make it (deleting what an earlier run of that name left).
    Prepare,
    /// Count the messages in it.
    Count,
    /// Delete it.
    Remove,
}

/// What a run's broker held after hookgate drained the queue into it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Held {
    pub kind: Kind,
    /// Messages in the stream or queue.
    pub messages: u64,
    /// Deliveries that were queued for it.
    pub expected: u64,
}

/// Carries out `action` on the stream, subject or queue `name` of the broker at `url`; a
/// count is returned, the other actions return 0.
pub async fn run(action: Action, kind: Kind, url: &str, name: &str) -> anyhow::Result<u64> {
    match kind {
        Kind::RedisStream => redis_stream(action, url, name).await,
        Kind::Nats => nats(action, url, name).await,
        Kind::Amqp => amqp(action, url, name).await,
    }
}

async fn redis_stream(action: Action, url: &str, name: &str) -> anyhow::Result<u64> {
    let mut connection = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let command = match action {
        Action::Count => "XLEN",
        Action::Prepare | Action::Remove => "DEL",
    };
    let answer: u64 = redis::cmd(command)
        .arg(name)
        .query_async(&mut connection)
        .await?;
    Ok(match action {
        Action::Count => answer,
        Action::Prepare | Action::Remove => 0,
    })
}

async fn nats(action: Action, url: &str, name: &str) -> anyhow::Result<u64> {
    let client = async_nats::connect(url).await?;
    let jetstream = jetstream::new(client.clone());
    let count = match action {
        Action::Prepare => {
            // A stream of this name left by an interrupted run would hold its messages.
            let _ = jetstream.delete_stream(name).await;
            jetstream
                .create_stream(jetstream::stream::Config {
                    name: name.to_owned(),
                    subjects: vec![name.to_owned()],
                    ..Default::default()
                })
                .await?;
            0
        }
        Action::Count => {
            jetstream
                .get_stream(name)
                .await?
                .info()
                .await?
                .state
                .messages
        }
        Action::Remove => {
            jetstream.delete_stream(name).await?;
            0
        }
    };
    client.flush().await?;
    Ok(count)
}

async fn amqp(action: Action, url: &str, name: &str) -> anyhow::Result<u64> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let count = amqp_on(&channel, action, name).await;
    connection.close(200, "done".into()).await?;
    count
}

async fn amqp_on(channel: &Channel, action: Action, name: &str) -> anyhow::Result<u64> {
    let declare = |passive| {
        let options = QueueDeclareOptions {
            passive,
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel.queue_declare(name.into(), options, FieldTable::default())
    };
    match action {
        Action::Prepare => {
            let options = QueueDeleteOptions::default();
            channel.queue_delete(name.into(), options).await?;
            declare(false).await?;
            let bind = QueueBindOptions::default();
            channel
                .queue_bind(
                    name.into(),
                    AMQP_EXCHANGE.into(),
                    name.into(),
                    bind,
                    FieldTable::default(),
                )
                .await?;
            Ok(0)
        }
        Action::Count => Ok(declare(true).await?.message_count().into()),
        Action::Remove => {
            channel
                .queue_delete(name.into(), QueueDeleteOptions::default())
                .await?;
            Ok(0)
        }
    }
}
