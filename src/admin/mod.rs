//! The admin API on the admin listener: search and inspect events, replay them, the
//! dead-letter view, stats and the OpenAPI document. Every route is behind the bearer token.

pub(crate) mod auth;
mod blocked_keys;
mod deliveries;
pub(crate) mod error;
mod event_id;
pub(crate) mod events;
mod handshakes;
mod json_body;
mod method_not_allowed;
mod openapi;
pub(crate) mod page;
mod payload_stream;
pub(crate) mod replay;
mod rollup;
mod stats;
mod strict_query;

pub use auth::AdminToken;
pub use events::{EventPage, EventQuery};
pub use json_body::from_json_object;
pub(crate) use method_not_allowed::method_not_allowed_or_not_found;
pub use openapi::AdminApi;
pub use page::MAX_LIMIT;
pub use rollup::keep_stats_rollup;
pub use strict_query::{NoQuery, StrictQuery};

use crate::delivery::{RemoteWake, Wakers};
use crate::sources::Sources;
use crate::store::Store;
use actix_web::{middleware, web};
use error::AdminError;
use std::collections::HashSet;
use std::sync::Arc;

/// Where every admin route lives.
pub const PREFIX: &str = "/admin";

/// Every admin operation, listed once. Hands the list to `$emit`: [`routes`] registers exactly
/// these in the scope behind the token and [`AdminApi`] documents exactly these, so a route
/// cannot be served undocumented, and the tests that ask every documented operation without
/// the token (tests/api/admin_routes.rs) and with generated requests (schemathesis) reach it.
macro_rules! admin_operations {
    ($emit:ident) => {
        $emit! {
            crate::admin::events::list,
            crate::admin::events::detail,
            crate::admin::events::payload,
            crate::admin::replay::replay_event,
            crate::admin::deliveries::list,
            crate::admin::handshakes::list,
            crate::admin::stats::stats,
            crate::admin::blocked_keys::list,
            crate::admin::blocked_keys::skip,
            crate::replays::api::create,
            crate::replays::api::list,
            crate::replays::api::progress,
            crate::admin::openapi::document
        }
    };
}
use admin_operations;

/// What the admin handlers share.
pub struct AdminState {
    pub store: Store,
    /// The configured sources, for the destinations a replay defaults to.
    pub sources: Arc<Sources>,
    pub token: AdminToken,
    /// This process's delivery workers (when it runs them) and pull consumers' long polls.
    pub wakers: Wakers,
    /// Wakes delivery workers in other processes.
    pub remote_wake: RemoteWake,
    /// The destinations whose ordering keys a dead delivery blocks (`on_dead = "block"`).
    pub blocking_destinations: HashSet<String>,
}

impl AdminState {
    /// Tells workers here and elsewhere that deliveries are due now.
    fn wake_workers(&self) {
        self.wakers.wake_all();
        self.remote_wake.mark();
    }
}

/// Registers the admin routes (every one of [`admin_operations`], behind the token); needs
/// `web::Data<AdminState>` in the app data.
pub fn routes(cfg: &mut web::ServiceConfig) {
    macro_rules! register {
        ($($($segment:ident)::+),*) => {
            web::scope(PREFIX)$(.service($($segment)::+))*
        };
    }
    cfg.service(
        admin_operations!(register)
            .wrap(middleware::from_fn(auth::require_token))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                AdminError::BadRequest(format!("invalid path: {err}")).into()
            }))
            .default_service(web::to(method_not_allowed::method_not_allowed_or_not_found)),
    );
}
