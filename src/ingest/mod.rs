//! The public route: `POST /webhooks/{source_id}`, and `GET` on it for providers whose
//! subscription checks are GET requests.

mod admission;
mod answer_relay;
pub mod body_budget;
mod dedup_cache;
mod error;
mod handler;
mod handshake;
pub mod headers;
mod log;
pub mod next_request;
pub mod shedding;
pub mod writer;

pub use dedup_cache::DedupCache;
pub use error::IngestError;
pub use handler::IngestState;
pub use log::SourceLog;

use actix_web::web;
use answer_relay::AnswerRelay;

/// Registers the ingest route and starts this worker thread's [`AnswerRelay`]: actix
/// configures the routes once on each worker thread.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(AnswerRelay::start_on_this_thread()))
        .service(
            web::resource("/webhooks/{source_id}")
                .route(web::post().to(handler::receive))
                .route(web::get().to(handshake::get))
                .default_service(web::to(handshake::other_method)),
        );
}
