//! `kind = "nats"`: each delivery is published to a JetStream subject and counts as delivered
//! only once the stream acknowledges it (stored). The body is the payload; the HTTP delivery's
//! metadata travels as message headers under the same names (`Idempotency-Key`,
//! `X-Hookgate-Event-Id`, …, `Content-Type`), and `Nats-Msg-Id` is `<event id>:<destination>`,
//! so that JetStream's own duplicate window drops the second copy when an attempt's answer was
//! lost and it is made again. No stream for the subject, a lost connection or a late ack is a
//! failed attempt, retried like any other; the client reconnects by itself.

use super::super::policy::Outcome;
use super::super::request::Attempt;
use super::metadata;
use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage};
use std::time::Duration;
use tokio::sync::OnceCell;

pub struct NatsSubject {
    url: String,
    subject: String,
    destination: String,
    /// Connected at the first delivery, so that a NATS down at start delays nothing else.
    context: OnceCell<jetstream::Context>,
}

impl NatsSubject {
    pub fn new(url: &str, subject: String, destination: String) -> NatsSubject {
        NatsSubject {
            url: url.to_owned(),
            subject,
            destination,
            context: OnceCell::new(),
        }
    }

    pub async fn publish(&self, attempt: &Attempt<'_>, now_unix: i64) -> Outcome {
        let context = match self.context.get_or_try_init(|| self.connect()).await {
            Ok(context) => context,
            Err(err) => return Outcome::Connect(err),
        };
        let mut headers = async_nats::HeaderMap::new();
        for (name, value) in metadata(attempt, now_unix) {
            headers.insert(name.as_str(), value.as_str());
        }
        let message = PublishMessage::build()
            .payload(attempt.body.clone())
            .headers(headers)
            .message_id(format!("{}:{}", attempt.event_id, self.destination));
        let acknowledgement = match context.send_publish(self.subject.clone(), message).await {
            Ok(acknowledgement) => acknowledgement,
            Err(err) => return Outcome::Transport(err.to_string()),
        };
        match acknowledgement.await {
            Ok(_) => Outcome::Confirmed,
            Err(err) if err.kind() == PublishErrorKind::StreamNotFound => Outcome::Transport(
                format!("no JetStream stream takes subject {:?}", self.subject),
            ),
            Err(err) => Outcome::Transport(err.to_string()),
        }
    }

    async fn connect(&self) -> Result<jetstream::Context, String> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(2))
            .connect(self.url.as_str())
            .await
            .map_err(|err| err.to_string())?;
        Ok(jetstream::new(client))
    }
}
