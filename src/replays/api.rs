//! `POST /admin/replays`, `GET /admin/replays` and `GET /admin/replays/{id}`.

use crate::admin::error::AdminError;
use crate::admin::page;
use crate::admin::{NoQuery, StrictQuery, from_json_object};
use crate::problem::Problem;
use crate::store::{ReplayFilter, ReplayProgress, Store, StoreError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, get, post, web};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the replay routes need.
pub struct ReplayApi {
    pub store: Store,
    /// Configured destination ids: only deliveries to these are replayed.
    pub destinations: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    #[error("no such replay")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidFilter(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::InvalidFilter(detail) => {
                Problem::new(status, "invalid_filter", "Invalid replay filter")
                    .with_detail(detail.clone())
                    .response()
            }
            ApiError::NotFound => Problem::new(status, "not_found", "No such replay").response(),
            ApiError::Store(err) => {
                tracing::error!(error = %err, "replay request failed");
                match err {
                    StoreError::Unavailable(_) => Problem::new(
                        status,
                        "storage_unavailable",
                        "Storage unavailable; retry later",
                    ),
                    _ => Problem::new(status, "internal", "Internal error"),
                }
                .response()
            }
        }
    }
}

/// The answer to `POST /admin/replays`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayCreated {
    /// Follow it at `GET /admin/replays/{id}`.
    id: Uuid,
    /// How many deliveries the filter matched.
    matched: i64,
}

/// Parses and checks a filter: a JSON object of known fields, RFC 3339 times, a configured
/// destination.
fn parse_filter(body: &[u8], destinations: &[String]) -> Result<ReplayFilter, ApiError> {
    let filter: ReplayFilter =
        from_json_object(body).map_err(|err| ApiError::InvalidFilter(err.to_string()))?;
    check_filter(&filter, destinations).map_err(ApiError::InvalidFilter)?;
    Ok(filter)
}

/// What is wrong with `filter`, if anything: a source Postgres cannot hold, an empty time
/// range, a destination that is not configured. The API's check, and the console's.
pub(crate) fn check_filter(filter: &ReplayFilter, destinations: &[String]) -> Result<(), String> {
    // Postgres text cannot hold NUL, so no source is named with one; refused here rather
    // than failing in the database.
    if filter.source.as_deref().is_some_and(|s| s.contains('\0')) {
        return Err("source contains a NUL character".into());
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        return Err("since must be before until".into());
    }
    if let Some(destination) = &filter.destination
        && !destinations.contains(destination)
    {
        return Err(format!("unknown destination {destination:?}"));
    }
    Ok(())
}

/// Records a bulk replay of what `filter` (checked) matches now, asked for by
/// `requested_by`; its id and how many deliveries it matched. The API's start, and the
/// console's.
pub(crate) async fn start(
    api: &ReplayApi,
    filter: &ReplayFilter,
    requested_by: &str,
) -> Result<(Uuid, i64), StoreError> {
    let id = Uuid::now_v7();
    let matched = api
        .store
        .create_replay(id, filter, &api.destinations, requested_by)
        .await?;
    tracing::info!(replay = %id, matched, ?filter, requested_by, "bulk replay created");
    Ok((id, matched))
}

/// Starts a bulk replay of the delivered or dead deliveries matching a filter.
#[utoipa::path(
    operation_id = "create_replay",
    context_path = "/admin",
    tag = "replays",
    request_body = ReplayFilter,
    responses(
        (status = 202, description = "replay recorded; it runs in the background", body = ReplayCreated),
        (status = 400, description = "invalid filter", body = Problem),
    )
)]
#[post("/replays")]
pub async fn create(
    body: web::Bytes,
    api: web::Data<ReplayApi>,
    _: StrictQuery<NoQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = parse_filter(&body, &api.destinations)?;
    let (id, matched) = start(&api, &filter, "admin API").await?;
    Ok(HttpResponse::Accepted().json(ReplayCreated { id, matched }))
}

/// Parameters of `GET /admin/replays`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplayListQuery {
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page (opaque, base64url); absent or empty: the first page.
    cursor: Option<String>,
}

/// One page of bulk replays, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayPage {
    pub replays: Vec<ReplayProgress>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Every bulk replay, newest first, with its progress.
#[utoipa::path(
    operation_id = "list_replays",
    context_path = "/admin",
    tag = "replays",
    params(ReplayListQuery),
    responses(
        (status = 200, description = "one page of replays", body = ReplayPage),
        (status = 400, description = "a query parameter that is unknown or invalid", body = Problem),
    )
)]
#[get("/replays")]
pub async fn list(
    api: web::Data<ReplayApi>,
    query: StrictQuery<ReplayListQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    let page = list_page(&api.store, query.cursor.as_deref(), query.limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The page of replays after `cursor` (the first without one), of `limit` (or the default):
/// the API's listing, and the console's.
pub(crate) async fn list_page(
    store: &Store,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<ReplayPage, AdminError> {
    let limit = page::limit(limit)?;
    let after = page::position(cursor)?;
    let rows = store.list_replays(after, limit + 1).await?;
    let (replays, next_cursor) = page::paginate(rows, limit, |replay| replay.id);
    Ok(ReplayPage {
        replays,
        next_cursor,
    })
}

/// The progress of a bulk replay.
#[utoipa::path(
    operation_id = "get_replay",
    context_path = "/admin",
    tag = "replays",
    params(("id" = Uuid, Path, description = "replay id (anything else is no replay: 404)")),
    responses(
        (status = 200, description = "the replay's progress", body = ReplayProgress),
        (status = 404, description = "no such replay", body = Problem),
    )
)]
#[get("/replays/{id}")]
pub async fn progress(
    id: web::Path<String>,
    api: web::Data<ReplayApi>,
    _: StrictQuery<NoQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let progress = api
        .store
        .replay_progress(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(progress))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FinishedState;

    fn parse(body: &str) -> Result<ReplayFilter, String> {
        parse_filter(body.as_bytes(), &["billing".to_owned()]).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_filter_parses() {
        let filter = parse(
            r#"{"source":"stripe","destination":"billing","status":"dead",
                "since":"2025-01-01T00:00:00Z","until":"2025-01-02T00:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(filter.status, Some(FinishedState::Dead));
        assert_eq!(filter.source.as_deref(), Some("stripe"));
        assert!(filter.since.unwrap() < filter.until.unwrap());
        assert_eq!(parse("{}").unwrap(), ReplayFilter::default());
    }

    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        for (body, reason) in [
            (r#"{"status":"pending"}"#, "unknown variant"),
            (r#"{"since":"yesterday"}"#, "could not be parsed"),
            (r#"{"sourse":"stripe"}"#, "unknown field"),
            (r#"{"destination":"nowhere"}"#, "unknown destination"),
            (r#"{"source":"a\u0000b"}"#, "NUL"),
            ("[]", "not an array"),
            (
                r#"{"since":"2025-01-02T00:00:00Z","until":"2025-01-01T00:00:00Z"}"#,
                "before",
            ),
            ("", "EOF"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.contains(reason), "{body}: {err}");
        }
    }
}
