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
    cfg.route("/", web::get().to(home))
        .route(assets::STYLESHEET, web::get().to(assets::stylesheet))
        .route(assets::SCRIPT, web::get().to(assets::script))
        .service(
            web::resource(sign_in::PATH)
                .get(sign_in::form)
                .post(sign_in::submit),
        )
        .route(sign_in::SIGN_OUT_PATH, web::post().to(sign_in::sign_out))
        .route(events::PATH, web::get().to(events::list))
        .route("/events/{id}", web::get().to(event_detail::show))
        .route(
            "/events/{id}/payload",
            web::get().to(event_detail::download),
        )
        .route("/events/{id}/replay", web::post().to(replay::replay));
}

/// The console's start page. Phase 2 puts an overview here; until then, the events.
async fn home() -> HttpResponse {
    layout::see_other(events::PATH)
}
