//! `GET /admin/events`, `GET /admin/events/{id}` and `GET /admin/events/{id}/payload`.

use super::error::AdminError;
use super::event_id::EventPath;
use super::strict_query::{NoQuery, StrictQuery};
use super::{AdminState, PREFIX, page, payload_stream};
use crate::ingest::headers::is_secret_header;
use crate::store::{DeliveryState, EventDetail, EventFilter, EventSummary, Store};
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Search parameters of `GET /admin/events` (also what `hookgate events` sends).
#[derive(Debug, Default, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events from this source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only events of this type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Only the event with this provider event id (the `event_id` of the results; exact
    /// match). One per source at most: with `source`, at most one result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_event_id: Option<String>,
    /// Only events with at least one delivery in this state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryState>,
    /// Received at or after (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
    /// Received before (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
    /// Page size, 1 to 500 (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (opaque, base64url); absent or empty: the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One page of events, newest first.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPage {
    pub events: Vec<EventSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Search events, newest first. Pages stay stable while new events arrive.
#[utoipa::path(
    operation_id = "list_events",
    context_path = PREFIX,
    tag = "events",
    params(EventQuery),
    responses(
        (status = 200, description = "one page of events", body = EventPage),
        (status = 400, description = "a query parameter that is unknown or invalid", body = crate::problem::Problem)
    )
)]
#[get("/events")]
pub async fn list(
    state: web::Data<AdminState>,
    query: StrictQuery<EventQuery>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(search(&state.store, query.into_inner()).await?))
}

/// One page of the events `query` asks for: what `GET /admin/events` answers, and what the
/// console's events page shows.
pub(crate) async fn search(store: &Store, query: EventQuery) -> Result<EventPage, AdminError> {
    let limit = page::limit(query.limit)?;
    let filter = EventFilter {
        source: query.source,
        event_type: query.event_type,
        provider_event_id: query.provider_event_id,
        status: query.status,
        since: query.since,
        until: query.until,
        before: page::position(query.cursor.as_deref())?,
    };
    let rows = store.search_events(&filter, limit + 1).await?;
    let (events, next_cursor) = page::paginate(rows, limit, |event| event.id);
    Ok(EventPage {
        events,
        next_cursor,
    })
}

/// One event: metadata, the headers received, its deliveries with every attempt.
#[utoipa::path(
    operation_id = "get_event",
    context_path = PREFIX,
    tag = "events",
    params(EventPath),
    responses(
        (status = 200, description = "the event", body = EventDetail),
        (status = 400, description = "not a hookgate event id, or a query parameter", body = crate::problem::Problem),
        (status = 404, description = "no such event", body = crate::problem::Problem)
    )
)]
#[get("/events/{id}")]
pub async fn detail(
    state: web::Data<AdminState>,
    path: web::Path<EventPath>,
    _: StrictQuery<NoQuery>,
) -> Result<HttpResponse, AdminError> {
    let id = path.event_id()?;
    Ok(HttpResponse::Ok().json(find(&state.store, id).await?))
}

/// The event with hookgate id `id` as the admin API and the console show it: credentials
/// removed from its headers.
pub(crate) async fn find(store: &Store, id: Uuid) -> Result<EventDetail, AdminError> {
    let mut event = store
        .event_detail(id)
        .await?
        .ok_or(AdminError::EventNotFound)?;
    // Stored without credentials already; checked again in case the list grew since.
    event.headers.retain(|name, _| !is_secret_header(name));
    Ok(event)
}

/// The raw body as received, byte-exact, with its original Content-Type.
///
/// Any media type can come back (documented as `*/*`, bytes without a schema): the one the
/// sender gave, or `application/octet-stream` when it gave none or something that is not a
/// media type.
#[utoipa::path(
    operation_id = "get_event_payload",
    context_path = PREFIX,
    tag = "events",
    params(EventPath),
    responses(
        (status = 200, description = "the body as received, with the Content-Type it was received with", content_type = "*/*"),
        (status = 400, description = "not a hookgate event id, or a query parameter", body = crate::problem::Problem),
        (status = 404, description = "no such event", body = crate::problem::Problem)
    )
)]
#[get("/events/{id}/payload")]
pub async fn payload(
    state: web::Data<AdminState>,
    path: web::Path<EventPath>,
    _: StrictQuery<NoQuery>,
) -> Result<HttpResponse, AdminError> {
    let id = path.event_id()?;
    let start = state
        .store
        .event_payload_start(id, payload_stream::SLICE_BYTES)
        .await?
        .ok_or(AdminError::EventNotFound)?;
    Ok(payload_stream::respond(state.store.clone(), id, start))
}
