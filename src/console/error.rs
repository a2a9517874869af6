//! Everything a console request can fail with, shown as a page with a message (never a
//! blank page or a JSON problem), or as a trip to the sign-in form.

use super::layout;
use crate::admin::error::AdminError;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::html;

/// Why a console request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session: to the sign-in form, then back to `next` (a local path).
    #[error("sign in first")]
    SignInRequired { next: Option<String> },
    /// A state-changing request without this session's CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    /// A console address that names nothing: the message says what was not found.
    #[error("{0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Admin(#[from] AdminError),
}

impl From<StoreError> for ConsoleError {
    fn from(err: StoreError) -> Self {
        ConsoleError::Admin(AdminError::Store(err))
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Admin(err) => err.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, message) = match self {
            ConsoleError::SignInRequired { next } => return super::guard::to_sign_in(next),
            ConsoleError::Csrf => (
                "Form refused",
                "This form did not come from your current console session (it may have \
                 expired, or you signed out). Go back, reload the page and try again."
                    .to_owned(),
            ),
            ConsoleError::BadRequest(message) => ("Bad request", message.clone()),
            ConsoleError::NotFound(message) => ("Not found", (*message).to_owned()),
            ConsoleError::Admin(err) if status.is_server_error() => {
                tracing::error!(error = %err, "console request failed");
                (
                    "Something went wrong",
                    match err {
                        AdminError::Store(StoreError::Unavailable(_)) => {
                            "The database is unavailable; retry in a moment.".to_owned()
                        }
                        _ => {
                            "An internal error occurred; the server log has the details.".to_owned()
                        }
                    },
                )
            }
            ConsoleError::Admin(AdminError::EventNotFound) => (
                "No such event",
                "No event has this id: it may have been purged by retention.".to_owned(),
            ),
            ConsoleError::Admin(err) => ("Request refused", err.to_string()),
        };
        let body = html! {
            h1 { (title) }
            (layout::message(layout::Tone::Error, &message))
            p { a href=(super::events::PATH) { "Back to the events" } }
        };
        layout::respond(status, layout::page(title, None, body))
    }
}
