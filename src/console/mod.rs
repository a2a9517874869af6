//! The operator console: HTML pages on the admin listener at `/`, beside the JSON API under
//! `/admin`, signed in with the admin token.
//!
//! Every page calls the same functions as the admin API's handlers (so a view costs the same
//! queries as its API answer), renders on the server with maud, and uses one stylesheet and
//! one small ES module (live updates, local time zones, the replay confirmation) compiled
//! into the binary: nothing to install or build beside `cargo build`.

mod activity_summary;
mod assets;
mod chart;
mod dead_letters;
mod destinations;
mod error;
mod event_detail;
mod events;
mod fields;
mod form;
mod guard;
mod layout;
mod overview;
mod params;
mod redrive;
mod replay;
mod replay_jobs;
mod session;
mod sign_in;
mod sources;
mod time_input;

pub use session::{SESSION_LIFETIME, SessionKey};

use crate::config::DestinationConfig;
use crate::delivery::Circuits;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use session::Session;

/// What the console's handlers share beside the admin API's state.
pub struct Console {
    /// `None` without an admin token: then nobody can sign in.
    key: Option<SessionKey>,
    /// Mark the session cookie `Secure` even over plain HTTP (`[admin] secure_cookies`).
    secure_cookies: bool,
    runtime: Runtime,
}

/// What the console shows of the running configuration and delivery side.
pub struct Runtime {
    /// The configured destinations (their secrets are only ever counted, never shown).
    pub destinations: Vec<DestinationConfig>,
    /// The circuit breakers of this process's delivery workers; `None` when this process
    /// does not deliver (`--role ingest`).
    pub circuits: Option<Circuits>,
}

impl Console {
    /// The console of the admin token `token` (none configured: signing in is refused).
    pub fn new(token: Option<&str>, secure_cookies: bool, runtime: Runtime) -> Console {
        Console {
            key: token.filter(|t| !t.is_empty()).map(SessionKey::derive),
            secure_cookies,
            runtime,
        }
    }
}

/// Registers the console's routes; needs `web::Data<Console>` and `web::Data<AdminState>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let page = |path: &str| web::resource(path).default_service(web::to(wrong_method));
    cfg.service(page(overview::PATH).get(overview::show))
        .service(page(assets::STYLESHEET).get(assets::stylesheet))
        .service(page(assets::SCRIPT).get(assets::script))
        .service(page(sign_in::PATH).get(sign_in::form).post(sign_in::submit))
        .service(page(sign_in::SIGN_OUT_PATH).post(sign_in::sign_out))
        .service(page(events::PATH).get(events::list))
        .service(page("/events/{id}").get(event_detail::show))
        .service(page("/events/{id}/payload").get(event_detail::download))
        .service(page("/events/{id}/replay").post(replay::replay))
        .service(page(dead_letters::PATH).get(dead_letters::list))
        .service(page(redrive::PATH).post(redrive::redrive))
        .service(page(replay_jobs::PATH).get(replay_jobs::list))
        .service(page("/replays/{id}").get(replay_jobs::show))
        .service(page(sources::PATH).get(sources::list))
        .service(page(destinations::PATH).get(destinations::list))
        // Last: every other address on the admin listener (the API's scope, health and
        // metrics are registered before the console) is no console page. The app's JSON 404
        // stays for the ingest listener.
        .service(web::resource("/{rest:.*}").to(not_found));
}

/// A console address reached with the wrong method (a form's address typed into the address
/// bar, say, or a `HEAD` or `PUT`): a page that says so rather than an empty `405`.
async fn wrong_method(req: HttpRequest, session: Option<Session>) -> HttpResponse {
    let message = if req.method() == Method::GET {
        "This address takes a form from the console, not a visit.".to_owned()
    } else {
        format!(
            "The console's pages are visited (GET) and its forms are sent (POST); {} is \
             neither.",
            req.method()
        )
    };
    let body = maud::html! {
        h1 { "Not a page" }
        (layout::message(layout::Tone::Error, &message))
        p { a href="/" { "Go to the console" } }
    };
    layout::respond(
        StatusCode::METHOD_NOT_ALLOWED,
        layout::page("Not a page", session.as_ref(), body),
    )
}

/// An address that is no console page (the admin API answers JSON for its own, under
/// `/admin`): a page that says so, with the navigation to find the way.
async fn not_found(session: Option<Session>) -> HttpResponse {
    let body = maud::html! {
        h1 { "No such page" }
        (layout::message(layout::Tone::Error, "The console has no page at this address."))
        p { a href="/" { "Go to the console" } }
    };
    layout::respond(
        StatusCode::NOT_FOUND,
        layout::page("No such page", session.as_ref(), body),
    )
}
