//! RFC 9457 problem details: the one shape every error response takes.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use serde::Serialize;

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 5;

/// An `application/problem+json` body with a stable machine-readable `code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    /// A problem of `status` identified by `code`, with a human title.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str) -> Problem {
        Problem {
            type_uri: format!("urn:hookgate:problem:{code}"),
            title,
            status: status.as_u16(),
            code,
            detail: None,
        }
    }

    /// Adds a detail sentence for the caller; never put secrets or internals in it.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    /// The HTTP response; 503s carry `Retry-After`.
    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()));
        }
        builder.json(self)
    }
}

/// The status a storage failure is answered with: `503` when retrying later can help, else `500`.
pub fn storage_status(err: &crate::store::StoreError) -> StatusCode {
    match err {
        crate::store::StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The problem a storage failure is answered with (`storage_unavailable`, or an opaque
/// `internal`); the cause goes to the log only, as a failure of `request`.
pub fn storage_problem(err: &crate::store::StoreError, request: &str) -> Problem {
    let status = storage_status(err);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %err, "{request}: database unavailable");
        Problem::new(
            status,
            "storage_unavailable",
            "Storage unavailable; retry later",
        )
    } else {
        tracing::error!(error = %err, "{request} failed");
        Problem::new(status, "internal", "Internal error")
    }
}

/// Has the connection closed once `response` is sent (actix writes `Connection: close` from
/// this, and ignores a `Connection` header set by hand).
pub fn close_after<B>(response: &mut HttpResponse<B>) {
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
}
