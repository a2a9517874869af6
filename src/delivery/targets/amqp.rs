//! `kind = "amqp"`: each delivery is published to a RabbitMQ (AMQP 0-9-1) exchange and counts
//! as delivered only once the broker confirms it (publisher confirms). Messages are persistent
//! and published `mandatory`, so one no queue takes comes back as a failure instead of being
//! confirmed and dropped. `message_id` is hookgate's event id and `content_type` the body's;
//! the HTTP delivery's metadata travels in the headers table under the names HTTP uses. A
//! missing exchange (the broker closes the channel), a nack, a returned message or a lost
//! connection is a failed attempt, retried like any other; the next attempt opens a new
//! channel, or a new connection when the old one is gone.

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
    /// The connection and its confirm-mode channel, opened at the first delivery (so that a
    /// broker down at start delays nothing else) and reopened after either closes. Behind a
    /// lock so that concurrent attempts after an outage open one connection, not one each.
    link: Mutex<Option<(Connection, Channel)>>,
}

impl AmqpExchange {
    pub fn new(url: &str, exchange: &str, routing_key: &str) -> AmqpExchange {
        AmqpExchange {
            url: url.to_owned(),
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            link: Mutex::new(None),
        }
    }

    pub async fn publish(&self, attempt: &Attempt<'_>, now_unix: i64) -> Outcome {
        let channel = match self.channel().await {
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

    /// The open confirm-mode channel, opening a channel (and, when the connection is gone, a
    /// connection) first if needed.
    async fn channel(&self) -> lapin::Result<Channel> {
        let mut link = self.link.lock().await;
        if let Some((connection, channel)) = link.as_ref() {
            if channel.status().connected() {
                return Ok(channel.clone());
            }
            if connection.status().connected() {
                let channel = confirming_channel(connection).await?;
                let (_, kept) = link.as_mut().expect("checked above");
                *kept = channel.clone();
                return Ok(channel);
            }
        }
        *link = None;
        let connection = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = confirming_channel(&connection).await?;
        *link = Some((connection, channel.clone()));
        Ok(channel)
    }
}

async fn confirming_channel(connection: &Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}
