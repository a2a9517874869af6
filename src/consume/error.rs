//! Everything a consumer request can fail with, mapped once to status and problem body.

use crate::problem::{Problem, storage_problem, storage_status};
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};

/// Why a consumer request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// No token, or not one of the destination's consumer tokens (the admin token included).
    #[error("missing or wrong consumer token")]
    Unauthorized,
    /// The caller holds a consumer token, but the destination is unknown or not a pull one.
    #[error("no pull destination {0:?}")]
    NotFound(String),
    /// A body the API cannot use; the message says why.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResponseError for ConsumeError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsumeError::Unauthorized => StatusCode::UNAUTHORIZED,
            ConsumeError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsumeError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsumeError::Store(err) => storage_status(err),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let problem = match self {
            ConsumeError::Unauthorized => {
                Problem::new(status, "unauthorized", "Consumer token missing or wrong").with_detail(
                    "send Authorization: Bearer <one of the destination's consumer_tokens>",
                )
            }
            ConsumeError::NotFound(destination) => {
                Problem::new(status, "unknown_destination", "No such pull destination").with_detail(
                    format!("{destination:?} is not a destination with kind = \"pull\""),
                )
            }
            ConsumeError::BadRequest(detail) => {
                Problem::new(status, "invalid_request", "Invalid request").with_detail(detail)
            }
            ConsumeError::Store(err) => storage_problem(err, "consumer request"),
        };
        let mut response = problem.response();
        if matches!(self, ConsumeError::Unauthorized) {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
