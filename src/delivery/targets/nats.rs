//! `kind = "nats"`: each delivery is published to a JetStream subject and counts as delivered
//! only once the stream acknowledges it (stored). The body is the payload; the HTTP delivery's
//! metadata travels as message headers under the same names (`Idempotency-Key`,
//! `X-Hookgate-Event-Id`, …, `Content-Type`), and `Nats-Msg-Id` is `<event id>:<destination>`,
//! so that JetStream's own duplicate window drops the second copy when an attempt's answer was
//! lost and it is made again. No stream for the subject, a lost connection or a late ack is a
//! failed attempt, retried like any other; the client reconnects by itself.

use super::super::policy::Outcome;
use super::super::request::{Attempt, AttemptResult, headers};
use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage};
use std::time::{Duration, Instant};
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

    pub async fn deliver(&self, attempt: &Attempt<'_>, now_unix: i64) -> AttemptResult {
        let started = Instant::now();
        let outcome =
            match tokio::time::timeout(attempt.timeout, self.publish(attempt, now_unix)).await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::Timeout,
            };
        AttemptResult {
            outcome,
            duration: started.elapsed(),
            response_excerpt: None,
        }
    }

    async fn publish(&self, attempt: &Attempt<'_>, now_unix: i64) -> Outcome {
        let context = match self.context.get_or_try_init(|| self.connect()).await {
            Ok(context) => context,
            Err(err) => return Outcome::Connect(err),
        };
        let mut metadata = async_nats::HeaderMap::new();
        for (name, value) in &headers(attempt, now_unix) {
            if let Ok(value) = value.to_str() {
                metadata.insert(canonical(name.as_str()).as_str(), value);
            }
        }
        let message = PublishMessage::build()
            .payload(attempt.body.clone())
            .headers(metadata)
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

/// `x-hookgate-event-id` as HTTP delivery writes it: `X-Hookgate-Event-Id` (NATS headers are
/// read case-sensitively by most clients).
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn header_names_travel_as_http_writes_them() {
        assert_eq!(canonical("idempotency-key"), "Idempotency-Key");
        assert_eq!(canonical("x-hookgate-event-id"), "X-Hookgate-Event-Id");
        assert_eq!(canonical("content-type"), "Content-Type");
    }
}
