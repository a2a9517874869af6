//! `POST /consume/{destination}/lease|ack|nack`: parse, call the store, shape the answer.
//! The consumer token was checked by [`super::auth`], which hands over the destination.

use super::api::{
    AckRequest, LeaseRequest, LeaseResponse, LeaseResult, LeaseResults, LeaseStatus, Message,
    NackRequest, check_lease_ids,
};
use super::error::ConsumeError;
use super::{ConsumeState, PREFIX, PullDestination, body, lease_id};
use crate::admin::{NoQuery, StrictQuery, from_json_object};
use crate::delivery::{Outcome, Step, jitter};
use crate::metrics;
use crate::store::{ClaimedDelivery, LeaseEnd, LeaseRef, NextState};
use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

/// While a long poll waits, it looks again this often: for messages whose nack delay or
/// lease ran out, which no commit announces.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// A wake-up says that some destination has new deliveries, not which: a waiting long poll
/// looks at most this often, so commits for other destinations cost each one at most 50
/// looks a second.
const MIN_LOOK_INTERVAL: Duration = Duration::from_millis(20);

/// Lease up to `max` due messages for `visibility_ms`, waiting up to `wait_ms` for one.
#[utoipa::path(
    operation_id = "lease_messages",
    context_path = PREFIX,
    tag = "consume",
    params(("destination" = String, Path, description = "the pull destination's id")),
    request_body(content = Option<LeaseRequest>, description = "optional: the defaults are max 10, visibility_ms 30000, wait_ms 0"),
    responses(
        (status = 200, description = "the messages leased, oldest due first (none when nothing was due within wait_ms)", body = LeaseResponse),
        (status = 400, description = "a body that is not a lease request, or a limit out of range", body = crate::problem::Problem),
        (status = 404, description = "no pull destination of that id", body = crate::problem::Problem)
    ),
    security(("consumer_token" = []))
)]
#[post("/lease")]
pub async fn lease_messages(
    state: web::Data<ConsumeState>,
    destination: web::ReqData<Arc<PullDestination>>,
    _: StrictQuery<NoQuery>,
    request: web::Bytes,
) -> Result<HttpResponse, ConsumeError> {
    let request = optional_body::<LeaseRequest>(&request)?;
    let limits = request
        .limits()
        .map_err(ConsumeError::BadRequest)?
        .within_body_budget(state.max_body_bytes);
    let deadline = Instant::now() + limits.wait;
    // Subscribed before the first look, so a commit between a look and the wait still wakes it.
    let mut wakes = state.consumers.subscribe();
    loop {
        let (leased, expired) = state
            .store
            .lease_deliveries(
                &destination.id,
                destination.retry.max_attempts,
                limits.max,
                limits.visibility,
                destination.dead_head_blocks,
            )
            .await?;
        metrics::expired_leases(&expired);
        let now = Instant::now();
        if !leased.is_empty() || now >= deadline || state.shutdown.is_cancelled() {
            let messages = leased.into_iter().filter_map(message).collect();
            return Ok(HttpResponse::Ok().json(LeaseResponse { messages }));
        }
        let next_look = deadline.min(now + POLL_INTERVAL);
        tokio::select! {
            Ok(()) = wakes.changed() => {
                let soonest = deadline.min(now + MIN_LOOK_INTERVAL);
                tokio::time::sleep_until(soonest.into()).await;
            }
            () = tokio::time::sleep_until(next_look.into()) => {}
            () = state.shutdown.cancelled() => {}
        }
    }
}

/// A leased delivery as its consumer sees it.
fn message(delivery: ClaimedDelivery) -> Option<Message> {
    let Some(token) = delivery.lease_token else {
        tracing::error!(delivery = %delivery.id, "a pull lease without a token; it will expire");
        return None;
    };
    let lease = LeaseRef {
        delivery_id: delivery.id,
        attempt: delivery.attempt,
        token,
    };
    let (body, body_encoding) = body::encode(&delivery.body);
    Some(Message {
        lease_id: lease_id::format(&lease),
        delivery_id: delivery.id,
        event_id: delivery.event_id,
        provider_event_id: delivery.provider_event_id,
        source: delivery.source_id,
        event_type: delivery.event_type,
        attempt: u32::try_from(delivery.attempt).unwrap_or_default(),
        received_at: delivery.received_at,
        content_type: delivery.content_type,
        body,
        body_encoding,
    })
}

/// The messages were handled: delivered.
#[utoipa::path(
    operation_id = "ack_messages",
    context_path = PREFIX,
    tag = "consume",
    params(("destination" = String, Path, description = "the pull destination's id")),
    request_body = AckRequest,
    responses(
        (status = 200, description = "what became of each lease id, in the order given", body = LeaseResults),
        (status = 400, description = "a body that is not an ack", body = crate::problem::Problem),
        (status = 404, description = "no pull destination of that id", body = crate::problem::Problem)
    ),
    security(("consumer_token" = []))
)]
#[post("/ack")]
pub async fn ack_messages(
    state: web::Data<ConsumeState>,
    destination: web::ReqData<Arc<PullDestination>>,
    _: StrictQuery<NoQuery>,
    request: web::Bytes,
) -> Result<HttpResponse, ConsumeError> {
    let request: AckRequest = required_body(&request)?;
    check_lease_ids(&request.lease_ids).map_err(ConsumeError::BadRequest)?;
    let results = end_leases(&state, &destination, &request.lease_ids, |_| {
        (NextState::Delivered, None)
    })
    .await?;
    Ok(HttpResponse::Ok().json(results))
}

/// The messages were not handled: due again after `delay_ms` (by default the destination's
/// backoff), each nack an attempt that failed.
#[utoipa::path(
    operation_id = "nack_messages",
    context_path = PREFIX,
    tag = "consume",
    params(("destination" = String, Path, description = "the pull destination's id")),
    request_body = NackRequest,
    responses(
        (status = 200, description = "what became of each lease id, in the order given", body = LeaseResults),
        (status = 400, description = "a body that is not a nack, or a delay or reason too long", body = crate::problem::Problem),
        (status = 404, description = "no pull destination of that id", body = crate::problem::Problem)
    ),
    security(("consumer_token" = []))
)]
#[post("/nack")]
pub async fn nack_messages(
    state: web::Data<ConsumeState>,
    destination: web::ReqData<Arc<PullDestination>>,
    _: StrictQuery<NoQuery>,
    request: web::Bytes,
) -> Result<HttpResponse, ConsumeError> {
    let request: NackRequest = required_body(&request)?;
    check_lease_ids(&request.lease_ids).map_err(ConsumeError::BadRequest)?;
    let delay = request.delay().map_err(ConsumeError::BadRequest)?;
    let refused = Outcome::Refused(request.reason.unwrap_or_else(|| "no reason given".into()));
    let results = end_leases(&state, &destination, &request.lease_ids, |lease| {
        nack_step(&destination, lease, &refused, delay)
    })
    .await?;
    // Messages due again now (or soon) are for whoever waits, here or in another process.
    state.consumers.wake();
    state.remote_wake.mark();
    Ok(HttpResponse::Ok().json(results))
}

/// Where a nacked lease goes: the destination's retry policy decides between a retry (after
/// `delay` when one was asked for) and dead.
fn nack_step(
    destination: &PullDestination,
    lease: &LeaseRef,
    refused: &Outcome,
    delay: Option<Duration>,
) -> (NextState, Option<String>) {
    let attempt = u32::try_from(lease.attempt).unwrap_or_default();
    match destination.retry.next_step(attempt, refused, jitter()) {
        Step::Retry { after } => {
            let at = OffsetDateTime::now_utc() + delay.unwrap_or(after);
            (NextState::RetryAt(at), refused.error())
        }
        Step::Dead { reason } => (NextState::Dead, Some(reason)),
        Step::Delivered => unreachable!("the retry policy never counts a refusal as delivered"),
    }
}

/// Ends each lease of `ids` that `destination` still holds as `decide` says, and reports
/// every id: applied, expired (a delivery of this destination the lease no longer holds) or
/// unknown.
async fn end_leases(
    state: &ConsumeState,
    destination: &PullDestination,
    ids: &[String],
    decide: impl Fn(&LeaseRef) -> (NextState, Option<String>),
) -> Result<LeaseResults, ConsumeError> {
    let mut seen = HashSet::new();
    let leases: Vec<(&String, Option<LeaseRef>)> =
        ids.iter().map(|id| (id, lease_id::parse(id))).collect();
    let ends: Vec<LeaseEnd> = leases
        .iter()
        .filter_map(|(_, lease)| *lease)
        .filter(|lease| seen.insert(lease.delivery_id))
        .map(|lease| {
            let (next, error) = decide(&lease);
            LeaseEnd { lease, next, error }
        })
        .collect();
    let ended = state.store.end_leases(&destination.id, &ends).await?;
    let not_ended: Vec<_> = ends
        .iter()
        .map(|end| end.lease.delivery_id)
        .filter(|id| !ended.contains(id))
        .collect();
    let known = if not_ended.is_empty() {
        HashSet::new()
    } else {
        state
            .store
            .deliveries_of(&destination.id, &not_ended)
            .await?
    };
    let applied: HashMap<LeaseRef, NextState> = ends
        .iter()
        .filter(|end| ended.contains(&end.lease.delivery_id))
        .map(|end| (end.lease, end.next))
        .collect();
    for next in applied.values() {
        metrics::attempt_outcome(&destination.id, *next);
    }
    let outcomes = Outcomes {
        applied,
        known: known.into_iter().chain(ended).collect(),
    };
    let results = leases
        .iter()
        .map(|(id, lease)| LeaseResult {
            lease_id: (*id).clone(),
            status: outcomes.status(lease.as_ref()),
        })
        .collect();
    Ok(LeaseResults { results })
}

/// What ending a request's leases did, to answer each lease id with.
struct Outcomes {
    /// The leases ended, and how.
    applied: HashMap<LeaseRef, NextState>,
    /// Deliveries of the destination among those named (ended or not).
    known: HashSet<Uuid>,
}

impl Outcomes {
    /// The answer for one lease id (`None`: not a lease id at all).
    fn status(&self, lease: Option<&LeaseRef>) -> LeaseStatus {
        let Some(lease) = lease else {
            return LeaseStatus::Unknown;
        };
        match self.applied.get(lease) {
            // A consumer's answers are acks and nacks: `Filtered` (a transform's) never comes
            // from one, and would mean "done" as an ack does.
            Some(NextState::Delivered | NextState::Filtered) => LeaseStatus::Acked,
            Some(NextState::RetryAt(_)) => LeaseStatus::Nacked,
            Some(NextState::Dead) => LeaseStatus::Dead,
            None if self.known.contains(&lease.delivery_id) => LeaseStatus::Expired,
            None => LeaseStatus::Unknown,
        }
    }
}

/// No body at all, or JSON `null`, asks for the defaults; anything else must be a `T` object
/// (whitespace alone is not JSON, and is refused as the OpenAPI document says).
fn optional_body<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, ConsumeError> {
    if body.is_empty() || body.trim_ascii() == b"null" {
        return Ok(T::default());
    }
    required_body(body)
}

fn required_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ConsumeError> {
    from_json_object(body).map_err(|err| ConsumeError::BadRequest(format!("body: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consume::auth::ConsumerTokens;
    use crate::delivery::RetryPolicy;

    fn jobs(max_attempts: u32) -> PullDestination {
        PullDestination {
            id: "jobs".into(),
            tokens: ConsumerTokens::new(&[]),
            retry: RetryPolicy {
                max_attempts,
                backoff_base: Duration::from_secs(60),
                backoff_max: Duration::from_secs(60),
            },
            dead_head_blocks: true,
        }
    }

    fn attempt(attempt: i32) -> LeaseRef {
        LeaseRef {
            delivery_id: Uuid::now_v7(),
            attempt,
            token: Uuid::now_v7(),
        }
    }

    #[test]
    fn each_lease_id_is_answered_by_what_became_of_its_own_lease() {
        let (acked, nacked, dead, stale, foreign) =
            (attempt(1), attempt(2), attempt(3), attempt(1), attempt(1));
        let current = LeaseRef {
            attempt: 2,
            token: Uuid::now_v7(),
            ..stale
        };
        let outcomes = Outcomes {
            applied: HashMap::from([
                (acked, NextState::Delivered),
                (nacked, NextState::RetryAt(OffsetDateTime::now_utc())),
                (dead, NextState::Dead),
                (current, NextState::Delivered),
            ]),
            known: [acked, nacked, dead, stale]
                .iter()
                .map(|lease| lease.delivery_id)
                .collect(),
        };
        assert_eq!(outcomes.status(Some(&acked)), LeaseStatus::Acked);
        assert_eq!(outcomes.status(Some(&nacked)), LeaseStatus::Nacked);
        assert_eq!(outcomes.status(Some(&dead)), LeaseStatus::Dead);
        assert_eq!(
            outcomes.status(Some(&stale)),
            LeaseStatus::Expired,
            "an earlier lease of a delivery ended by its current one"
        );
        assert_eq!(outcomes.status(Some(&foreign)), LeaseStatus::Unknown);
        assert_eq!(outcomes.status(None), LeaseStatus::Unknown);
    }

    #[test]
    fn a_nack_is_due_after_its_delay_or_the_backoff_until_the_last_attempt_makes_it_dead() {
        let refused = Outcome::Refused("busy".into());
        let before = OffsetDateTime::now_utc();
        let (next, error) = nack_step(&jobs(3), &attempt(1), &refused, Some(Duration::ZERO));
        let NextState::RetryAt(at) = next else {
            panic!("{next:?}")
        };
        assert!(
            at >= before && at <= OffsetDateTime::now_utc(),
            "due at once"
        );
        assert_eq!(error.as_deref(), Some("nack: busy"));

        let (next, _) = nack_step(&jobs(3), &attempt(2), &refused, None);
        let NextState::RetryAt(at) = next else {
            panic!("{next:?}")
        };
        assert!(
            at <= OffsetDateTime::now_utc() + Duration::from_secs(60),
            "within the backoff"
        );

        let (next, error) = nack_step(&jobs(3), &attempt(3), &refused, Some(Duration::ZERO));
        assert_eq!(next, NextState::Dead);
        assert_eq!(
            error.as_deref(),
            Some("exhausted after 3 attempts; last: nack: busy")
        );
    }
}
