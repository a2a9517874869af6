//! The bodies of `/consume/{destination}/…`, read and written by the server and by
//! `hookgate consume` alike, with the limits every request is checked against.

use super::body::BodyEncoding;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// Most messages one lease request may ask for.
pub const MAX_MESSAGES: u32 = 500;
/// Messages a lease request gets when it does not say.
pub const DEFAULT_MESSAGES: u32 = 10;
/// Shortest and longest lease, in milliseconds (the longest: 12 hours).
pub const VISIBILITY_MS: (u64, u64) = (100, 43_200_000);
/// A lease's length when the request does not say.
pub const DEFAULT_VISIBILITY_MS: u64 = 30_000;
/// Longest long poll, in milliseconds.
pub const MAX_WAIT_MS: u64 = 20_000;
/// Most body bytes one lease answer may carry, counting every body at `max_body_bytes`: a
/// lease returns fewer than `max` messages when they could be larger than that together.
pub const MAX_LEASE_BODY_BYTES: usize = 128 * 1024 * 1024;
/// Most lease ids one ack or nack may carry.
pub const MAX_LEASE_IDS: usize = 1_000;
/// Longest delay a nack may ask for: a day, as for a destination's `Retry-After`.
pub const MAX_DELAY_MS: u64 = 86_400_000;
/// Longest nack reason, in bytes.
pub const MAX_REASON_BYTES: usize = 1_024;

/// `POST /consume/{destination}/lease`; every field is optional.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    /// Most messages to lease, 1 to 500 (default 10); fewer come when their bodies could
    /// together pass 128 MiB (each counted at the server's max_body_bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub max: Option<u32>,
    /// How long each lease lasts, 100 ms to 12 h (default 30 s): unacknowledged by then, the
    /// message comes back by itself as a new attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 100, maximum = 43_200_000)]
    pub visibility_ms: Option<u64>,
    /// With nothing due, wait up to this long for a message (long poll), 0 to 20,000 ms
    /// (default 0: answer at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 20_000)]
    pub wait_ms: Option<u64>,
}

/// A lease request with its defaults filled in and its limits checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseLimits {
    pub max: u32,
    pub visibility: Duration,
    pub wait: Duration,
}

impl LeaseRequest {
    /// The request's limits, or which one is out of range.
    pub fn limits(&self) -> Result<LeaseLimits, String> {
        let max = self.max.unwrap_or(DEFAULT_MESSAGES);
        if !(1..=MAX_MESSAGES).contains(&max) {
            return Err(format!(
                "max must be between 1 and {MAX_MESSAGES}, not {max}"
            ));
        }
        let visibility = self.visibility_ms.unwrap_or(DEFAULT_VISIBILITY_MS);
        let (shortest, longest) = VISIBILITY_MS;
        if !(shortest..=longest).contains(&visibility) {
            return Err(format!(
                "visibility_ms must be between {shortest} and {longest}, not {visibility}"
            ));
        }
        let wait = self.wait_ms.unwrap_or(0);
        if wait > MAX_WAIT_MS {
            return Err(format!("wait_ms must be at most {MAX_WAIT_MS}, not {wait}"));
        }
        Ok(LeaseLimits {
            max,
            visibility: Duration::from_millis(visibility),
            wait: Duration::from_millis(wait),
        })
    }
}

impl LeaseLimits {
    /// These limits with `max` lowered (to 1 at least) so that bodies of up to
    /// `max_body_bytes` each stay within [`MAX_LEASE_BODY_BYTES`] together.
    pub fn within_body_budget(self, max_body_bytes: usize) -> LeaseLimits {
        let fits = MAX_LEASE_BODY_BYTES / max_body_bytes.max(1);
        let fits = u32::try_from(fits).unwrap_or(u32::MAX).max(1);
        LeaseLimits {
            max: self.max.min(fits),
            ..self
        }
    }
}

/// The answer to a lease request.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaseResponse {
    /// Oldest due first; empty when nothing came within `wait_ms`.
    pub messages: Vec<Message>,
}

/// One leased delivery: what a push would have carried, and the id to end its lease by.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// Ack or nack by this id; it is good for this attempt only, until `visibility_ms` runs out.
    pub lease_id: String,
    /// The delivery (one per event and destination; `X-Hookgate-Delivery-Id` of a push).
    pub delivery_id: Uuid,
    /// hookgate's event id: the `Idempotency-Key`, the same on every attempt and replay.
    pub event_id: Uuid,
    /// The provider's event id.
    pub provider_event_id: String,
    pub source: String,
    pub event_type: Option<String>,
    /// 1-based; a lease that expired counted as one.
    pub attempt: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The Content-Type the event arrived with.
    pub content_type: Option<String>,
    /// The payload: the JSON value itself when `body_encoding` is `json`, else a base64 string.
    #[schema(value_type = Value)]
    pub body: Box<RawValue>,
    pub body_encoding: BodyEncoding,
}

/// `POST /consume/{destination}/ack`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// 1 to 1,000 lease ids: those messages were handled.
    #[schema(min_items = 1, max_items = 1000)]
    pub lease_ids: Vec<String>,
}

/// `POST /consume/{destination}/nack`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NackRequest {
    /// 1 to 1,000 lease ids: those messages were not handled.
    #[schema(min_items = 1, max_items = 1000)]
    pub lease_ids: Vec<String>,
    /// Lease them again after this long, up to a day; by default after the destination's
    /// backoff. Each nack counts as an attempt: the last one makes the message dead.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 86_400_000)]
    pub delay_ms: Option<u64>,
    /// Why, recorded with the attempt (up to 1,024 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub reason: Option<String>,
}

impl NackRequest {
    /// The delay asked for, or which limit it breaks.
    pub fn delay(&self) -> Result<Option<Duration>, String> {
        if self
            .reason
            .as_ref()
            .is_some_and(|r| r.len() > MAX_REASON_BYTES)
        {
            return Err(format!("reason must be at most {MAX_REASON_BYTES} bytes"));
        }
        match self.delay_ms {
            Some(delay) if delay > MAX_DELAY_MS => Err(format!(
                "delay_ms must be at most {MAX_DELAY_MS}, not {delay}"
            )),
            delay => Ok(delay.map(Duration::from_millis)),
        }
    }
}

/// The answer to an ack or a nack: one result per lease id, in the order given.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaseResults {
    pub results: Vec<LeaseResult>,
}

/// What became of one lease id.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaseResult {
    pub lease_id: String,
    pub status: LeaseStatus,
}

/// `acked`, `nacked` and `dead` were applied; `expired` and `unknown` changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaseStatus {
    /// Delivered.
    Acked,
    /// Due again after the delay.
    Nacked,
    /// Nacked on its last attempt: now a dead letter.
    Dead,
    /// The lease no longer holds the message: its visibility ran out (the message is due
    /// again, or leased by another consumer), or it was already acked or nacked.
    Expired,
    /// Not a lease of this destination.
    Unknown,
}

/// Checks that a request names 1 to [`MAX_LEASE_IDS`] lease ids.
pub fn check_lease_ids(ids: &[String]) -> Result<(), String> {
    if ids.is_empty() || ids.len() > MAX_LEASE_IDS {
        return Err(format!(
            "lease_ids must hold 1 to {MAX_LEASE_IDS} ids, not {}",
            ids.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(max: Option<u32>, visibility_ms: Option<u64>, wait_ms: Option<u64>) -> LeaseRequest {
        LeaseRequest {
            max,
            visibility_ms,
            wait_ms,
        }
    }

    #[test]
    fn a_lease_request_takes_defaults_and_its_bounds_inclusive() {
        assert_eq!(
            LeaseRequest::default().limits().unwrap(),
            LeaseLimits {
                max: 10,
                visibility: Duration::from_secs(30),
                wait: Duration::ZERO
            }
        );
        let widest = request(Some(500), Some(43_200_000), Some(20_000));
        assert!(widest.limits().is_ok());
        assert!(request(Some(1), Some(100), Some(0)).limits().is_ok());
    }

    #[test]
    fn a_lease_request_out_of_bounds_says_which_bound() {
        for (bad, word) in [
            (request(Some(0), None, None), "max"),
            (request(Some(501), None, None), "max"),
            (request(None, Some(99), None), "visibility_ms"),
            (request(None, Some(43_200_001), None), "visibility_ms"),
            (request(None, None, Some(20_001)), "wait_ms"),
        ] {
            let err = bad.limits().unwrap_err();
            assert!(err.starts_with(word), "{err}");
        }
    }

    #[test]
    fn a_lease_of_large_bodies_takes_fewer_messages() {
        let limits = request(Some(500), None, None).limits().unwrap();
        assert_eq!(limits.within_body_budget(64 * 1024).max, 500);
        assert_eq!(limits.within_body_budget(1024 * 1024).max, 128);
        assert_eq!(limits.within_body_budget(25 * 1024 * 1024).max, 5);
        assert_eq!(limits.within_body_budget(usize::MAX).max, 1);
        assert_eq!(limits.within_body_budget(0).max, 500);
    }

    #[test]
    fn a_nack_is_checked_for_its_delay_and_reason() {
        let nack = |delay_ms, reason: &str| NackRequest {
            lease_ids: vec!["x".into()],
            delay_ms,
            reason: Some(reason.to_owned()),
        };
        assert_eq!(nack(None, "why").delay().unwrap(), None);
        assert_eq!(
            nack(Some(86_400_000), "").delay().unwrap(),
            Some(Duration::from_secs(86_400))
        );
        assert!(nack(Some(86_400_001), "").delay().is_err());
        assert!(nack(None, &"x".repeat(1025)).delay().is_err());
    }

    #[test]
    fn an_ack_names_one_to_a_thousand_leases() {
        assert!(check_lease_ids(&[]).is_err());
        assert!(check_lease_ids(&vec![String::new(); 1000]).is_ok());
        assert!(check_lease_ids(&vec![String::new(); 1001]).is_err());
    }
}
