//! The operator console: HTML pages on the admin listener at `/`, beside the JSON API under
//! `/admin`, signed in with the admin token.
//!
//! Every page calls the same functions as the admin API's handlers (so a view costs the same
//! queries as its API answer), renders on the server with maud, and uses one stylesheet and
//! one small ES module (live updates, local time zones, the replay confirmation) compiled
//! into the binary: nothing to install or build beside `cargo build`.

mod assets;
mod error;
mod event_detail;
mod events;
mod form;
mod guard;
mod layout;
mod replay;
mod session;
mod sign_in;
mod time_input;

pub use session::{SESSION_LIFETIME, SessionKey};

use actix_web::{HttpResponse, web};

/// What the console's handlers share beside the admin API's state.
pub struct Console {
    /// `None` without an admin token: then nobody can sign in.
    key: Option<SessionKey>,
    /// Mark the session cookie `Secure` even over plain HTTP (`[admin] secure_cookies`).
    secure_cookies: bool,
}

impl Console {
    /// The console of the admin token `token` (none configured: signing in is refused).
    pub fn new(token: Option<&str>, secure_cookies: bool) -> Console {
        Console {
            key: token.filter(|t| !t.is_empty()).map(SessionKey::derive),
            secure_cookies,
        }
    }
}

/// Registers the console's routes; needs `web::Data<Console>` and `web::Data<AdminState>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let page = |path: &str| web::resource(path).default_service(web::to(wrong_method));
    cfg.service(page("/").get(home))
        .service(page(assets::STYLESHEET).get(assets::stylesheet))
        .service(page(assets::SCRIPT).get(assets::script))
        .service(page(sign_in::PATH).get(sign_in::form).post(sign_in::submit))
        .service(page(sign_in::SIGN_OUT_PATH).post(sign_in::sign_out))
        .service(page(events::PATH).get(events::list))
        .service(page("/events/{id}").get(event_detail::show))
        .service(page("/events/{id}/payload").get(event_detail::download))
        .service(page("/events/{id}/replay").post(replay::replay));
}

/// The console's start page. Phase 2 puts an overview here; until then, the events.
async fn home() -> HttpResponse {
    layout::see_other(events::PATH)
}

/// A console address reached with the wrong method (a form's address typed into the address
/// bar, say): a page that says so rather than an empty `405`.
async fn wrong_method() -> HttpResponse {
    let body = maud::html! {
        h1 { "Not a page" }
        (layout::message(layout::Tone::Error, "This address takes a form from the console,             not a visit."))
        p { a href=(events::PATH) { "Go to the events" } }
    };
    layout::respond(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        layout::page("Not a page", None, body),
    )
}
