//! Where a delivery is handed over: an HTTP endpoint or a broker. The worker, the retry
//! policy, the circuit breaker and the attempt records do not know which: each target makes one
//! attempt and says how it went, as an [`AttemptResult`].

mod amqp;
mod nats;
mod redis_stream;

use super::clients::Clients;
use super::http_client::{Endpoint, HttpClient};
use super::policy::Outcome;
use super::request::{self, Attempt, AttemptResult};
use crate::config::{DestinationConfig, DestinationKind};
use amqp::AmqpExchange;
use anyhow::Context;
use nats::NatsSubject;
use redis_stream::RedisStream;
use std::time::Instant;

/// One destination's target.
pub enum Target {
    /// Its URL parsed once, when the worker is built, rather than for every attempt: one that
    /// does not parse stops the start, naming the destination.
    Http {
        client: HttpClient,
        endpoint: Endpoint,
    },
    RedisStream(RedisStream),
    /// Boxed: its lazily made JetStream context is large, and one target is made per
    /// destination.
    Nats(Box<NatsSubject>),
    /// Boxed: it holds a connection and a channel, and one target is made per destination.
    Amqp(Box<AmqpExchange>),
}

impl Target {
    /// The target `destination` describes (pull destinations have none: nothing is pushed).
    pub fn for_destination(
        destination: &DestinationConfig,
        clients: &mut Clients,
    ) -> anyhow::Result<Target> {
        match destination.kind {
            DestinationKind::RedisStream => {
                let stream = destination.stream.clone().unwrap_or_default();
                RedisStream::new(&destination.url, stream, destination.maxlen)
                    .map(Target::RedisStream)
                    .with_context(|| format!("destinations {:?}: url", destination.id))
            }
            DestinationKind::Nats => Ok(Target::Nats(Box::new(NatsSubject::new(
                &destination.url,
                destination.subject.clone().unwrap_or_default(),
                destination.id.clone(),
            )))),
            DestinationKind::Amqp => Ok(Target::Amqp(Box::new(AmqpExchange::new(
                &destination.url,
                destination.exchange.as_deref().unwrap_or_default(),
                destination.routing_key.as_deref().unwrap_or_default(),
            )))),
            DestinationKind::Http | DestinationKind::Pull => {
                let client = clients.for_destination(destination)?;
                let endpoint = client
                    .endpoint(&destination.url)
                    .with_context(|| format!("destinations {:?}: url", destination.id))?;
                Ok(Target::Http { client, endpoint })
            }
        }
    }

    /// Makes one attempt; never fails: every failure is an outcome.
    pub async fn deliver(&self, attempt: &Attempt<'_>, now_unix: i64) -> AttemptResult {
        match self {
            Target::Http { client, endpoint } => {
                request::send(client, endpoint, attempt, now_unix).await
            }
            Target::RedisStream(stream) => {
                within_timeout(attempt, stream.publish(attempt, now_unix)).await
            }
            Target::Nats(subject) => {
                within_timeout(attempt, subject.publish(attempt, now_unix)).await
            }
            Target::Amqp(exchange) => {
                within_timeout(attempt, exchange.publish(attempt, now_unix)).await
            }
        }
    }
}

/// Runs one broker attempt within the destination's timeout, timed like an HTTP one.
///
/// The publishing future is boxed: the brokers' clients build futures of kilobytes, and
/// unboxed the largest would size every attempt's future, HTTP ones included (30 KiB instead
/// of 2), allocated and moved for every attempt.
async fn within_timeout(
    attempt: &Attempt<'_>,
    publishing: impl Future<Output = Outcome>,
) -> AttemptResult {
    let started = Instant::now();
    let outcome = tokio::time::timeout(attempt.timeout, Box::pin(publishing))
        .await
        .unwrap_or(Outcome::Timeout);
    AttemptResult {
        outcome,
        duration: started.elapsed(),
        response_excerpt: None,
    }
}

/// The HTTP delivery's headers as a broker message's metadata: names as HTTP writes them
/// (`X-Hookgate-Event-Id`, since broker headers are read case-sensitively by most clients),
/// values that are text.
fn metadata(attempt: &Attempt<'_>, now_unix: i64) -> Vec<(String, String)> {
    request::headers(attempt, now_unix)
        .iter()
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            Some((canonical(name.as_str()), value.to_owned()))
        })
        .collect()
}

/// `x-hookgate-event-id` → `X-Hookgate-Event-Id`.
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
    use super::{Target, canonical};
    use crate::delivery::clients::Clients;

    #[test]
    fn an_http_destination_whose_url_does_not_parse_names_the_destination() {
        let destination = crate::delivery::test_destination("not a url");
        let Err(err) = Target::for_destination(&destination, &mut Clients::default()) else {
            panic!("a URL that does not parse was taken");
        };
        let message = format!("{err:#}");
        assert!(
            message.starts_with("destinations \"billing\": url"),
            "{message}"
        );
    }

    #[test]
    fn header_names_travel_as_http_writes_them() {
        assert_eq!(canonical("idempotency-key"), "Idempotency-Key");
        assert_eq!(canonical("x-hookgate-event-id"), "X-Hookgate-Event-Id");
        assert_eq!(canonical("content-type"), "Content-Type");
    }
}
