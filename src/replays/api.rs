//! `POST /admin/replays` and `GET /admin/replays/{id}`.

use super::auth;
use crate::problem::Problem;
use crate::store::{ReplayFilter, Store, StoreError};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;
use uuid::Uuid;

/// What the replay routes need.
pub struct ReplayApi {
    pub store: Store,
    /// The admin bearer token; `None` locks the routes.
    pub token: Option<String>,
    /// Configured destination ids: only deliveries to these are replayed.
    pub destinations: Vec<String>,
}

/// Registers the bulk replay routes; needs a `web::Data<ReplayApi>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/replays", web::post().to(create))
        .route("/admin/replays/{id}", web::get().to(progress));
}

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("missing or wrong admin token")]
    Unauthorized,
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
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::InvalidFilter(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Unauthorized => {
                let mut response =
                    Problem::new(status, "unauthorized", "Admin token required").response();
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
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

fn authorize(req: &HttpRequest, api: &ReplayApi) -> Result<(), ApiError> {
    auth::is_authorized(req, api.token.as_deref())
        .then_some(())
        .ok_or(ApiError::Unauthorized)
}

/// Parses and checks a filter: known fields, RFC 3339 times, a configured destination.
fn parse_filter(body: &[u8], destinations: &[String]) -> Result<ReplayFilter, ApiError> {
    let filter: ReplayFilter =
        serde_json::from_slice(body).map_err(|err| ApiError::InvalidFilter(err.to_string()))?;
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        return Err(ApiError::InvalidFilter("since must be before until".into()));
    }
    if let Some(destination) = &filter.destination
        && !destinations.contains(destination)
    {
        return Err(ApiError::InvalidFilter(format!(
            "unknown destination {destination:?}"
        )));
    }
    Ok(filter)
}

async fn create(
    req: HttpRequest,
    body: web::Bytes,
    api: web::Data<ReplayApi>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &api)?;
    let filter = parse_filter(&body, &api.destinations)?;
    let id = Uuid::now_v7();
    let matched = api
        .store
        .create_replay(id, &filter, &api.destinations)
        .await?;
    tracing::info!(replay = %id, matched, ?filter, "bulk replay created");
    Ok(HttpResponse::Accepted().json(json!({"id": id, "matched": matched})))
}

async fn progress(
    req: HttpRequest,
    id: web::Path<String>,
    api: web::Data<ReplayApi>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &api)?;
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
