//! A destination's `rate_limit_per_sec`. With Redis the limit is shared by every hookgate
//! instance through a counter per one-second window; without Redis, or whenever Redis does
//! not answer, each process enforces it alone with a token bucket.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::DestinationConfig;
use crate::redis_link::RedisLink;

/// Counts one request in a window key and gives the key a short life on first use.
const COUNT_SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
     if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end \
     return n";
/// Lifetime of a window key: its own second plus slack for clock skew between instances.
const WINDOW_TTL_SECS: u64 = 2;
const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Paces deliveries to one destination.
pub struct RateLimiter {
    per_sec: u32,
    local: Mutex<TokenBucket>,
    shared: Option<SharedWindow>,
}

struct SharedWindow {
    redis: RedisLink,
    /// `{prefix}rate:{destination}:`, completed by the unix second.
    key_base: String,
}

impl RateLimiter {
    /// The limiter for `destination`, shared through `redis` when given; `None` when the
    /// destination has no rate limit.
    pub fn for_destination(
        destination: &DestinationConfig,
        redis: Option<RedisLink>,
    ) -> Option<RateLimiter> {
        let per_sec = destination.rate_limit_per_sec.filter(|&n| n > 0)?;
        let shared = redis.map(|redis| SharedWindow {
            key_base: redis.key(&format!("rate:{}:", destination.id)),
            redis,
        });
        Some(RateLimiter {
            per_sec,
            local: Mutex::new(TokenBucket::full(per_sec, Instant::now())),
            shared,
        })
    }

    /// Takes a permit: `None` to go now, or how long to wait before asking again.
    pub async fn acquire(&self) -> Option<Duration> {
        self.acquire_at(Instant::now(), SystemTime::now()).await
    }

    /// Waits until a permit is taken.
    pub async fn wait(&self) {
        while let Some(wait) = self.acquire().await {
            tokio::time::sleep(wait).await;
        }
    }

    async fn acquire_at(&self, now: Instant, wall_clock: SystemTime) -> Option<Duration> {
        if let Some(shared) = &self.shared {
            let since_epoch = wall_clock.duration_since(UNIX_EPOCH).unwrap_or_default();
            let key = format!("{}{}", shared.key_base, since_epoch.as_secs());
            let cmd = redis::cmd("EVAL")
                .arg(COUNT_SCRIPT)
                .arg(1)
                .arg(key)
                .arg(WINDOW_TTL_SECS)
                .to_owned();
            if let Some(count) = shared.redis.run::<u64>(&cmd).await {
                let rest_of_second = Duration::from_secs(1)
                    - Duration::from_nanos(since_epoch.subsec_nanos().into());
                return (count > u64::from(self.per_sec)).then_some(rest_of_second);
            }
        }
        self.local
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(now)
    }
}

/// A token bucket holding up to one second's worth of tokens, refilled continuously. Kept in
/// integer units (a token is `NANOS_PER_SECOND` units, refilled at `per_sec` units a
/// nanosecond), so it is exact.
struct TokenBucket {
    per_sec: u128,
    units: u128,
    capacity: u128,
    updated: Instant,
}

impl TokenBucket {
    fn full(per_sec: u32, now: Instant) -> TokenBucket {
        let per_sec = u128::from(per_sec.max(1));
        let capacity = per_sec * NANOS_PER_SECOND;
        TokenBucket {
            per_sec,
            units: capacity,
            capacity,
            updated: now,
        }
    }

    /// Takes a token at `now`: `None` when there was one, else the wait until there is.
    fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_nanos();
        self.units = self
            .units
            .saturating_add(elapsed.saturating_mul(self.per_sec))
            .min(self.capacity);
        self.updated = self.updated.max(now);
        match self.units.checked_sub(NANOS_PER_SECOND) {
            Some(rest) => {
                self.units = rest;
                None
            }
            None => {
                let nanos = (NANOS_PER_SECOND - self.units).div_ceil(self.per_sec);
                Some(Duration::from_nanos(
                    u64::try_from(nanos).unwrap_or(u64::MAX),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn limiter(per_sec: u32, redis: Option<RedisLink>) -> RateLimiter {
        let mut destination = super::super::test_destination("http://127.0.0.1:9/");
        destination.rate_limit_per_sec = Some(per_sec);
        RateLimiter::for_destination(&destination, redis).expect("a rate limit is set")
    }

    #[test]
    fn a_bucket_starts_with_one_second_of_tokens_then_paces() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(3, start);
        assert_eq!(
            [bucket.take(start), bucket.take(start), bucket.take(start)],
            [None; 3]
        );
        // A third of a second, rounded up to the nanosecond.
        let third = Duration::from_nanos(333_333_334);
        assert_eq!(bucket.take(start), Some(third));
        assert_eq!(
            bucket.take(start + third - Duration::from_nanos(1)),
            Some(Duration::from_nanos(1))
        );
        assert_eq!(bucket.take(start + third), None);
        assert_eq!(
            bucket.take(start + third),
            Some(third - Duration::from_nanos(1))
        );
    }

    #[test]
    fn a_bucket_never_holds_more_than_one_second_of_tokens() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(2, start);
        let later = start + Duration::from_secs(3600);
        assert_eq!([bucket.take(later), bucket.take(later)], [None; 2]);
        assert_eq!(bucket.take(later), Some(500 * MS));
    }

    #[test]
    fn a_bucket_ignores_time_going_backwards() {
        let start = Instant::now() + Duration::from_secs(10);
        let mut bucket = TokenBucket::full(1, start);
        assert_eq!(bucket.take(start), None);
        assert_eq!(
            bucket.take(start - Duration::from_secs(5)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(bucket.take(start + Duration::from_secs(1)), None);
    }

    #[test]
    fn no_limiter_without_a_configured_limit() {
        let mut destination = super::super::test_destination("http://127.0.0.1:9/");
        destination.rate_limit_per_sec = None;
        assert!(RateLimiter::for_destination(&destination, None).is_none());
    }

    #[tokio::test]
    async fn wait_returns_no_more_permits_than_the_rate_allows() {
        let start = Instant::now();
        let limiter = limiter(100, None);
        for _ in 0..=100 {
            limiter.wait().await;
        }
        // A full bucket gives 100 permits; the 101st needs another hundredth of a second.
        assert!(start.elapsed() >= 10 * MS, "{:?}", start.elapsed());
    }

    fn redis_url() -> String {
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    fn fresh_redis() -> RedisLink {
        let prefix = format!("hookgate-test:{}:", uuid::Uuid::now_v7());
        RedisLink::new(&redis_url(), &prefix, None).expect("valid Redis URL")
    }

    #[tokio::test]
    async fn redis_counts_each_second_across_limiters() {
        let redis = fresh_redis();
        // Two limiters stand for two hookgate instances sharing the destination's limit.
        let (first, second) = (
            limiter(3, Some(redis.clone())),
            limiter(3, Some(redis.clone())),
        );
        let second_start = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let at = second_start + 250 * MS;
        let now = Instant::now();
        assert_eq!(first.acquire_at(now, at).await, None);
        assert_eq!(second.acquire_at(now, at).await, None);
        assert_eq!(first.acquire_at(now, at).await, None);
        assert_eq!(second.acquire_at(now, at).await, Some(750 * MS));
        assert_eq!(first.acquire_at(now, at + 700 * MS).await, Some(50 * MS));
        let next_second = second_start + Duration::from_secs(1);
        assert_eq!(second.acquire_at(now, next_second).await, None);

        let ttl: i64 = redis
            .run(&redis::Cmd::ttl(redis.key("rate:billing:2000000000")))
            .await
            .expect("Redis answers");
        assert!((1..=2).contains(&ttl), "ttl {ttl}");
    }

    #[tokio::test]
    async fn without_a_redis_answer_the_local_bucket_limits() {
        let unreachable =
            RedisLink::new("redis://127.0.0.1:1", "hookgate-test:", None).expect("valid URL");
        let limiter = limiter(2, Some(unreachable));
        let now = Instant::now();
        let at = SystemTime::now();
        assert_eq!(limiter.acquire_at(now, at).await, None);
        assert_eq!(limiter.acquire_at(now, at).await, None);
        assert_eq!(limiter.acquire_at(now, at).await, Some(500 * MS));
    }
}
