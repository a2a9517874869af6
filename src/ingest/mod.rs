//! The public route: `POST /webhooks/{source_id}`, and `GET` on it for providers whose
//! subscription checks are GET requests.

mod admission;
pub mod body_budget;
mod dedup_cache;
mod error;
mod handler;
mod handshake;
pub mod headers;
mod log;
pub mod next_request;
pub mod writer;

pub use dedup_cache::DedupCache;
pub use error::IngestError;
pub use handler::IngestState;
pub use log::SourceLog;

use actix_web::web;

/// Registers the ingest route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks/{source_id}")
            .route(web::post().to(handler::receive))
            .route(web::get().to(handshake::get))
            .default_service(web::to(handshake::other_method)),
    );
}
