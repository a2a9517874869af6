//! `kind = "amqp"`: each delivery is published to a RabbitMQ (AMQP 0-9-1) exchange and counts
//! as delivered only once the broker confirms it (publisher confirms). Messages are persistent
//! and published `mandatory`, so one no queue takes comes back as a failure instead of being
//! confirmed and dropped. `message_id` is hookgate's event id and `content_type` the body's;
//! the HTTP delivery's metadata travels in the headers table under the names HTTP uses. A
//! missing exchange (the broker closes the channel), a nack, a returned message or a lost
//! connection is a failed attempt, retried like any other; the next attempt opens a new
//! channel, or a new connection when the old one is gone.
//!
//! Each publish has a channel to itself while it waits for its confirm. The client pairs a
//! returned message with whichever confirm it completes next, and a broker's `multiple` ack
//! completes several at once in no set order: with two publishes in flight on one channel, one
//! routed and one returned, the return could be pinned on the routed one and the dropped one
//! counted delivered. Alone on its channel, a publish's return can only be its own.

use super::super::policy::Outcome;
use super::super::request::Attempt;
use super::metadata;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use tokio::sync::Mutex;

/// AMQP's delivery mode for a message the broker writes to disk.
const PERSISTENT: u8 = 2;

pub struct AmqpExchange {
    url: String,
    exchange: ShortString,
    routing_key: ShortString,
    /// The connection, opened at the first delivery (so that a broker down at start delays
    /// nothing else) and reopened after it closes. Behind a lock so that concurrent attempts
    /// after an outage open one connection, not one each.
    connection: Mutex<Option<Connection>>,
    /// Confirm-mode channels no publish holds: at most as many as publishes ever ran at once.
    idle: std::sync::Mutex<Vec<Channel>>,
}

impl AmqpExchange {
    pub fn new(url: &str, exchange: &str, routing_key: &str) -> AmqpExchange {
        AmqpExchange {
            url: url.to_owned(),
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            connection: Mutex::new(None),
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub async fn publish(&self, attempt: &Attempt<'_>, now_unix: i64) -> Outcome {
        let channel = match self.take_channel().await {
            Ok(channel) => channel,
            Err(err) => return Outcome::Connect(err.to_string()),
        };
        let mut headers = FieldTable::default();
        let mut content_type = None;
        for (name, value) in metadata(attempt, now_unix) {
            if name == "Content-Type" {
                content_type = Some(ShortString::from(value.as_str()));
            }
            headers.insert(name.into(), AMQPValue::LongString(LongString::from(value)));
        }
        let mut properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_message_id(attempt.event_id.to_string().into())
            .with_headers(headers);
        if let Some(content_type) = content_type {
            properties = properties.with_content_type(content_type);
        }
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        let published = channel
            .basic_publish(
                self.exchange.clone(),
                self.routing_key.clone(),
                options,
                attempt.body,
                properties,
            )
            .await;
        let confirmation = match published {
            Ok(confirm) => confirm.await,
            Err(err) => Err(err),
        };
        if confirmation.is_ok() {
            self.give_back(channel);
        }
        match confirmation {
            Ok(Confirmation::Ack(None)) => Outcome::Confirmed,
            Ok(Confirmation::Ack(Some(returned))) | Ok(Confirmation::Nack(Some(returned))) => {
                Outcome::Transport(format!(
                    "the broker returned the message: {} {} (no queue is bound to exchange {:?} \
                     with routing key {:?})",
                    returned.reply_code,
                    returned.reply_text,
                    self.exchange.as_str(),
                    self.routing_key.as_str()
                ))
            }
            Ok(Confirmation::Nack(None)) => {
                Outcome::Transport("the broker refused the message (nack)".to_owned())
            }
            Ok(Confirmation::NotRequested) => {
                Outcome::Transport("the channel was not in confirm mode".to_owned())
            }
            Err(err) => Outcome::Transport(err.to_string()),
        }
    }

    /// A confirm-mode channel for this publish alone: an idle one still open, or a new one
    /// (on a new connection when the old one is gone).
    async fn take_channel(&self) -> lapin::Result<Channel> {
        loop {
            let idle = self.idle.lock().expect("idle channels").pop();
            match idle {
                Some(channel) if channel.status().connected() => return Ok(channel),
                Some(_closed) => continue,
                None => break,
            }
        }
        let mut connection = self.connection.lock().await;
        if let Some(open) = connection.as_ref().filter(|c| c.status().connected()) {
            return confirming_channel(open).await;
        }
        *connection = None;
        let opened = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = confirming_channel(&opened).await?;
        *connection = Some(opened);
        Ok(channel)
    }

    /// Keeps a channel whose publish was answered for the next publish.
    fn give_back(&self, channel: Channel) {
        self.idle.lock().expect("idle channels").push(channel);
    }
}

async fn confirming_channel(connection: &Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}
