//! `kind = "redis-stream"`: each delivery is one `XADD` to a stream, with the body in the field
//! `body` and the HTTP delivery's metadata in fields of the same names, lower case
//! (`idempotency-key`, `x-hookgate-event-id`, `x-hookgate-source`, `x-hookgate-event-type`,
//! `x-hookgate-attempt`, `x-hookgate-delivery-id`, `content-type`). Redis answering with the
//! entry's id is the confirmation: with `appendfsync always` it is on disk by then, and with
//! less the durability is the operator's Redis's. Connection loss and errors are retried like
//! any failed attempt; the connection is re-established by itself.

use super::super::policy::Outcome;
use super::super::request::{Attempt, headers};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

pub struct RedisStream {
    manager: ConnectionManager,
    stream: String,
    maxlen: Option<u64>,
}

impl RedisStream {
    /// A lazily connected target; nothing is contacted until the first delivery.
    pub fn new(url: &str, stream: String, maxlen: Option<u64>) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(0);
        Ok(RedisStream {
            manager: ConnectionManager::new_lazy_with_config(client, config)?,
            stream,
            maxlen,
        })
    }

    pub async fn publish(&self, attempt: &Attempt<'_>, now_unix: i64) -> Outcome {
        let mut xadd = redis::cmd("XADD");
        xadd.arg(&self.stream);
        if let Some(maxlen) = self.maxlen {
            xadd.arg("MAXLEN").arg("~").arg(maxlen);
        }
        xadd.arg("*");
        for (name, value) in &headers(attempt, now_unix) {
            xadd.arg(name.as_str()).arg(value.as_bytes());
        }
        xadd.arg("body").arg(attempt.body.as_ref());
        let mut connection = self.manager.clone();
        match xadd.query_async::<redis::Value>(&mut connection).await {
            Ok(_entry_id) => Outcome::Confirmed,
            Err(err) if err.is_connection_refusal() || err.is_io_error() => {
                Outcome::Connect(err.to_string())
            }
            Err(err) => Outcome::Transport(err.to_string()),
        }
    }
}
