//! Where a delivery is handed over: an HTTP endpoint or a broker. The worker, the retry
//! policy, the circuit breaker and the attempt records do not know which: each target makes one
//! attempt and says how it went, as an [`AttemptResult`].

mod nats;
mod redis_stream;

use super::clients::Clients;
use super::request::{self, Attempt, AttemptResult};
use crate::config::{DestinationConfig, DestinationKind};
use anyhow::Context;
use nats::NatsSubject;
use redis_stream::RedisStream;

/// One destination's target.
pub enum Target {
    Http(reqwest::Client),
    RedisStream(RedisStream),
    /// Boxed: its lazily made JetStream context is large, and one target is made per
    /// destination.
    Nats(Box<NatsSubject>),
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
            DestinationKind::Http | DestinationKind::Pull => {
                clients.for_destination(destination).map(Target::Http)
            }
        }
    }

    /// Makes one attempt; never fails: every failure is an outcome.
    pub async fn deliver(&self, attempt: &Attempt<'_>, now_unix: i64) -> AttemptResult {
        match self {
            Target::Http(client) => request::send(client, attempt, now_unix).await,
            Target::RedisStream(stream) => stream.deliver(attempt, now_unix).await,
            Target::Nats(subject) => subject.deliver(attempt, now_unix).await,
        }
    }
}
