//! Everything an admin request can fail with, mapped once to status and problem body.

use crate::problem::{Problem, storage_problem, storage_status};
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::{HttpResponse, ResponseError};

/// Why an admin request was not served.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("missing or wrong admin token")]
    Unauthorized,
    /// A query parameter, path segment or body the API cannot use; the message says which.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Query parameters the route does not take; the message names them and what it takes.
    #[error("{0}")]
    UnknownParameters(String),
    /// A path segment that should be a hookgate event id; the message says what to do instead.
    #[error("{0}")]
    NotAnEventId(String),
    /// A replay named a destination the event's source does not deliver to.
    #[error("unknown destination: {0}")]
    UnknownDestination(String),
    #[error("no such event")]
    EventNotFound,

    /// The event's source, as configured now, has no destination to replay to.
    #[error("nothing to replay to")]
    NoDestinations,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::BadRequest(_)
            | AdminError::UnknownParameters(_)
            | AdminError::NotAnEventId(_)
            | AdminError::UnknownDestination(_) => StatusCode::BAD_REQUEST,
            AdminError::EventNotFound => StatusCode::NOT_FOUND,
            AdminError::NoDestinations => StatusCode::CONFLICT,
            AdminError::Store(err) => storage_status(err),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let problem = match self {
            AdminError::Unauthorized => {
                Problem::new(status, "unauthorized", "Admin token missing or wrong")
                    .with_detail("send Authorization: Bearer <admin.token>")
            }
            AdminError::BadRequest(detail) => {
                Problem::new(status, "invalid_request", "Invalid request").with_detail(detail)
            }
            AdminError::UnknownParameters(detail) => {
                Problem::new(status, "unknown_parameter", "Unknown query parameter")
                    .with_detail(detail)
            }
            AdminError::NotAnEventId(detail) => {
                Problem::new(status, "not_an_event_id", "Not a hookgate event id")
                    .with_detail(detail)
            }
            AdminError::UnknownDestination(name) => {
                Problem::new(status, "unknown_destination", "Unknown destination").with_detail(
                    format!("{name:?} is not a destination of this event's source"),
                )
            }
            AdminError::EventNotFound => Problem::new(status, "event_not_found", "No such event"),
            AdminError::NoDestinations => Problem::new(
                status,
                "no_destinations",
                "The event's source has no destination configured",
            ),
            AdminError::Store(err) => storage_problem(err, "admin request"),
        };
        let mut response = problem.response();
        if matches!(self, AdminError::Unauthorized) {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
