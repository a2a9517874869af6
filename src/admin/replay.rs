//! `POST /admin/events/{id}/replay`: deliver one event again.

use super::error::AdminError;
use super::event_id::EventPath;
use super::strict_query::{NoQuery, StrictQuery};
use super::{AdminState, PREFIX};
use crate::store::Redelivery;
use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// The optional body of a replay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Replay to these destinations only; by default to every destination the event's
    /// source has now.
    destinations: Option<Vec<String>>,
}

/// The deliveries a replay created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayAccepted {
    deliveries: Vec<Redelivery>,
}

/// Re-deliver one event: new deliveries, due now, with the event's `Idempotency-Key`.
#[utoipa::path(
    operation_id = "replay_event",
    context_path = PREFIX,
    tag = "events",
    params(EventPath),
    request_body(content = Option<ReplayRequest>, description = "optional"),
    responses(
        (status = 202, description = "the deliveries created, due now", body = ReplayAccepted),
        (status = 400, description = "not a hookgate event id, a body that is not a replay request, or an unknown destination", body = crate::problem::Problem),
        (status = 404, description = "no such event", body = crate::problem::Problem),
        (status = 409, description = "the event's source has no destination configured", body = crate::problem::Problem)
    )
)]
#[post("/events/{id}/replay")]
pub async fn replay_event(
    state: web::Data<AdminState>,
    path: web::Path<EventPath>,
    _: StrictQuery<NoQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let id = path.event_id()?;
    let request = parse_request(&body)?;
    let deliveries = replay(&state, id, request.destinations).await?;
    Ok(HttpResponse::Accepted().json(ReplayAccepted { deliveries }))
}

/// Re-delivers event `id` to `destinations` (each one of its source's), or to all of its
/// source's destinations, and wakes the workers: the API's replay, and the console's.
pub(crate) async fn replay(
    state: &AdminState,
    id: Uuid,
    destinations: Option<Vec<String>>,
) -> Result<Vec<Redelivery>, AdminError> {
    let source = state
        .store
        .event_source(id)
        .await?
        .ok_or(AdminError::EventNotFound)?;
    let configured: Vec<Arc<str>> = state
        .sources
        .get(&source)
        .map(|source| source.routes.destination_ids().cloned().collect())
        .unwrap_or_default();
    let destinations = choose(&configured, destinations)?;
    let deliveries = state.store.redeliver(id, &destinations).await?;
    state.wake_workers();
    tracing::info!(event = %id, count = deliveries.len(), "event replayed");
    Ok(deliveries)
}

/// An empty body or JSON `null` (the document's optional body) asks for the default; anything
/// else must be a [`ReplayRequest`] object.
fn parse_request(body: &[u8]) -> Result<ReplayRequest, AdminError> {
    let body = body.trim_ascii();
    if body.is_empty() || body == b"null" {
        return Ok(ReplayRequest::default());
    }
    super::from_json_object(body).map_err(|err| AdminError::BadRequest(format!("body: {err}")))
}

/// The destinations to replay to: those asked for, each one of `configured`, or all of them.
fn choose(
    configured: &[Arc<str>],
    requested: Option<Vec<String>>,
) -> Result<Vec<&str>, AdminError> {
    let chosen: Vec<&str> = match requested {
        None => configured.iter().map(|d| &**d).collect(),
        Some(requested) if requested.is_empty() => {
            return Err(AdminError::BadRequest(
                "destinations: name at least one, or leave it out for all".into(),
            ));
        }
        Some(requested) => {
            let mut chosen = Vec::new();
            for name in requested {
                let known = configured
                    .iter()
                    .find(|d| ***d == *name)
                    .ok_or(AdminError::UnknownDestination(name))?;
                if !chosen.contains(&&**known) {
                    chosen.push(&**known);
                }
            }
            chosen
        }
    };
    if chosen.is_empty() {
        return Err(AdminError::NoDestinations);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured() -> Vec<Arc<str>> {
        vec!["billing".into(), "ledger".into()]
    }

    #[test]
    fn without_a_choice_every_configured_destination_is_replayed_to() {
        assert_eq!(choose(&configured(), None).unwrap(), ["billing", "ledger"]);
    }

    #[test]
    fn a_choice_is_kept_once_each_and_unknown_names_are_refused() {
        let configured = configured();
        let asked = vec!["ledger".to_owned(), "ledger".to_owned()];
        assert_eq!(choose(&configured, Some(asked)).unwrap(), ["ledger"]);
        let unknown = choose(&configured, Some(vec!["nope".into()]));
        assert!(matches!(unknown, Err(AdminError::UnknownDestination(n)) if n == "nope"));
        assert!(matches!(
            choose(&configured, Some(Vec::new())),
            Err(AdminError::BadRequest(_))
        ));
        assert!(matches!(choose(&[], None), Err(AdminError::NoDestinations)));
    }

    #[test]
    fn the_body_is_optional_but_must_be_a_replay_request_when_given() {
        assert!(parse_request(b"").unwrap().destinations.is_none());
        assert!(parse_request(b" \n").unwrap().destinations.is_none());
        assert!(parse_request(b"null").unwrap().destinations.is_none());
        assert!(parse_request(br#"[["billing"]]"#).is_err());
        let request = parse_request(br#"{"destinations":["billing"]}"#).unwrap();
        assert_eq!(request.destinations.unwrap(), ["billing"]);
        assert!(parse_request(b"{").is_err());
        assert!(parse_request(br#"{"destination":"billing"}"#).is_err());
    }
}
