//! The Redis fast path for duplicates: an event id is marked only after its commit, so a hit
//! is always a stored event. Postgres stays the authority; a miss or a Redis failure simply
//! falls through to the database.

use crate::redis_link::RedisLink;
use std::time::Duration;
use uuid::Uuid;

/// Remembers `(source, event id) → hookgate id` for events already committed.
#[derive(Clone)]
pub struct DedupCache {
    redis: RedisLink,
    ttl: Duration,
}

impl DedupCache {
    /// Entries expire after `ttl` (the retention window: after it the event may be purged).
    pub fn new(redis: RedisLink, ttl: Duration) -> DedupCache {
        DedupCache { redis, ttl }
    }

    fn key(&self, source_id: &str, event_id: &str) -> String {
        self.redis.key(&format!("dedup:{source_id}:{event_id}"))
    }

    /// The hookgate id of an already committed event, if Redis knows it.
    pub async fn lookup(&self, source_id: &str, event_id: &str) -> Option<Uuid> {
        let cmd = redis::Cmd::get(self.key(source_id, event_id));
        let stored: Option<String> = self.redis.run(&cmd).await?;
        stored.and_then(|id| Uuid::parse_str(&id).ok())
    }

    /// Records a committed event; called only after the commit succeeded.
    pub async fn remember(&self, source_id: &str, event_id: &str, id: Uuid) {
        let cmd = redis::Cmd::set_ex(
            self.key(source_id, event_id),
            id.to_string(),
            self.ttl.as_secs(),
        );
        let _: Option<()> = self.redis.run(&cmd).await;
    }
}
