//! Everything an ingest request can fail with, mapped once to status and problem body.

use super::writer::CommitError;
use crate::problem::{Problem, close_after};
use crate::verify::Rejection;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use std::borrow::Cow;

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("unknown source")]
    UnknownSource,
    /// A method the webhook path does not take; `allow` lists the ones it does.
    #[error("method not allowed; this source takes {allow}")]
    MethodNotAllowed { allow: &'static str },
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request body could not be read: {0}")]
    UnreadableBody(String),
    #[error("the body did not arrive within {} ms", limit.as_millis())]
    RequestTimeout { limit: std::time::Duration },
    #[error("signature rejected: {}", .0.code())]
    Rejected(Rejection),
    /// Its body would take ingest past `max_inflight_body_bytes`: not read, not stored.
    #[error("bodies in flight would exceed {budget} bytes")]
    BodiesInFlight { budget: usize },
    /// It came on a connection beyond the `served` ones (see [`super::shedding`]).
    #[error("connection beyond the {served} served at once")]
    ConnectionShed { served: usize },
    #[error(transparent)]
    NotStored(#[from] CommitError),
}

impl IngestError {
    /// The `outcome` label of the ingest metrics for this error.
    pub fn metric_outcome(&self) -> Cow<'static, str> {
        match self {
            IngestError::UnknownSource => "unknown_source".into(),
            IngestError::MethodNotAllowed { .. } => "method_not_allowed".into(),
            IngestError::TooLarge { .. } => "too_large".into(),
            IngestError::UnreadableBody(_) => "unreadable_body".into(),
            IngestError::RequestTimeout { .. } => "request_timeout".into(),
            IngestError::Rejected(rejection) => format!("rejected_{}", rejection.code()).into(),
            IngestError::NotStored(CommitError::Overloaded)
            | IngestError::BodiesInFlight { .. }
            | IngestError::ConnectionShed { .. } => "overloaded".into(),
            IngestError::NotStored(_) => "unavailable".into(),
        }
    }
}

impl ResponseError for IngestError {
    fn status_code(&self) -> StatusCode {
        match self {
            IngestError::UnknownSource => StatusCode::NOT_FOUND,
            IngestError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::UnreadableBody(_) => StatusCode::BAD_REQUEST,
            IngestError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            // Authentic, but from a topic this source does not take.
            IngestError::Rejected(Rejection::TopicNotAllowed) => StatusCode::FORBIDDEN,
            IngestError::Rejected(_) => StatusCode::UNAUTHORIZED,
            IngestError::NotStored(_)
            | IngestError::BodiesInFlight { .. }
            | IngestError::ConnectionShed { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let problem = match self {
            IngestError::UnknownSource => Problem::new(status, "unknown_source", "Unknown source")
                .with_detail("no source is configured under this path"),
            IngestError::MethodNotAllowed { allow } => {
                Problem::new(status, "method_not_allowed", "Method not allowed")
                    .with_detail(format!("webhooks are POSTed; this source takes {allow}"))
            }
            IngestError::TooLarge { limit } => {
                Problem::new(status, "payload_too_large", "Payload too large")
                    .with_detail(format!("the body exceeds {limit} bytes"))
            }
            IngestError::UnreadableBody(_) => {
                Problem::new(status, "unreadable_body", "Request body could not be read")
            }
            IngestError::RequestTimeout { limit } => {
                Problem::new(status, "request_timeout", "Request body too slow").with_detail(
                    format!("the body did not arrive within {} ms", limit.as_millis()),
                )
            }
            IngestError::Rejected(Rejection::TopicNotAllowed) => Problem::new(
                status,
                Rejection::TopicNotAllowed.code(),
                "Topic not accepted by this source",
            ),
            IngestError::Rejected(rejection) => {
                Problem::new(status, rejection.code(), "Webhook signature rejected")
            }
            IngestError::NotStored(CommitError::Overloaded) => {
                Problem::new(status, "overloaded", "Gateway overloaded; retry later")
            }
            IngestError::BodiesInFlight { budget } => Problem::new(
                status,
                "overloaded",
                "Gateway overloaded; retry later",
            )
            .with_detail(format!(
                "request bodies in memory would exceed {budget} bytes (max_inflight_body_bytes)"
            )),
            IngestError::ConnectionShed { served } => Problem::new(
                status,
                "overloaded",
                "Gateway overloaded; retry later",
            )
            .with_detail(format!(
                "hookgate serves {served} connections at once (max_connections); this one is closed"
            )),
            IngestError::NotStored(_) => Problem::new(
                status,
                "storage_unavailable",
                "Storage unavailable; retry later",
            ),
        };
        let mut response = problem.response();
        match self {
            IngestError::MethodNotAllowed { allow } => {
                let allow = header::HeaderValue::from_static(allow);
                response.headers_mut().insert(header::ALLOW, allow);
            }
            // The rest of the body is never read: the connection cannot carry another request.
            IngestError::RequestTimeout { .. } | IngestError::BodiesInFlight { .. } => {
                close_after(&mut response);
            }
            _ => {}
        }
        response
    }
}
