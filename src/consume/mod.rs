//! Pull consumers: a destination with `kind = "pull"` keeps its deliveries queued until a
//! consumer leases them on the admin listener, authenticated by the destination's own
//! `consumer_tokens`. A lease is an attempt like a push's: acked it is delivered; nacked or
//! left to expire it is retried (after a delay, or at once) until `max_attempts`, then dead;
//! attempts, dead letters, replay, metrics and the admin API see no difference.
//!
//! Leases go through the push workers' claim ([`crate::store`]), so whatever decides which
//! deliveries are due applies to both. Long polls wake on the same commit notification as the
//! workers ([`crate::delivery::Wakers`]). `hookgate consume` ([`cli`]) is a client of it.

mod api;
mod auth;
mod body;
pub mod cli;
mod client;
mod error;
mod handler;
mod handlers;
mod lease_id;

pub use api::{LeaseRequest, LeaseResponse, LeaseResults, LeaseStatus, Message};
pub use body::BodyEncoding;
pub use client::ConsumerClient;

use crate::admin::method_not_allowed_or_not_found;
use crate::config::Config;
use crate::delivery::{ConsumerWake, RemoteWake, RetryPolicy};
use crate::store::Store;
use actix_web::{middleware, web};
use auth::ConsumerTokens;
use error::ConsumeError;
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Where the consumer routes live on the admin listener.
pub const PREFIX: &str = "/consume/{destination}";

/// One pull destination, as its consumers' requests need it.
pub struct PullDestination {
    pub id: String,
    tokens: ConsumerTokens,
    retry: RetryPolicy,
    /// Its ordering's `on_dead` is "block".
    dead_head_blocks: bool,
}

/// What the consumer handlers share.
pub struct ConsumeState {
    /// The delivery queue's pool (relaxed commits: a lost ack is a redelivery, never a loss).
    store: Store,
    destinations: HashMap<String, Arc<PullDestination>>,
    /// Long polls wait on this.
    consumers: ConsumerWake,
    /// Tells other processes' consumers and workers that nacked messages are due.
    remote_wake: RemoteWake,
    /// Cancelled when hookgate starts stopping: long polls answer at once.
    shutdown: CancellationToken,
    /// Bodies are at most this large (`[server] max_body_bytes`, unless lowered since they
    /// were stored): what bounds the size of a lease's answer.
    max_body_bytes: usize,
}

impl ConsumeState {
    /// The pull destinations of `config`, leased from `store`.
    pub fn new(
        config: &Config,
        store: Store,
        consumers: ConsumerWake,
        remote_wake: RemoteWake,
        shutdown: CancellationToken,
    ) -> ConsumeState {
        let destinations = config
            .destinations
            .iter()
            .filter(|destination| destination.is_pull())
            .map(|destination| {
                let pull = PullDestination {
                    id: destination.id.clone(),
                    tokens: ConsumerTokens::new(&destination.consumer_tokens),
                    retry: RetryPolicy::for_destination(destination),
                    dead_head_blocks: destination.dead_head_blocks(),
                };
                (destination.id.clone(), Arc::new(pull))
            })
            .collect();
        ConsumeState {
            store,
            destinations,
            consumers,
            remote_wake,
            shutdown,
            max_body_bytes: config.server.max_body_bytes,
        }
    }

    /// The pull destination `id` when `token` is one of its consumer tokens. Without such a
    /// token: `404` if it is another pull destination's, else `401`.
    fn authorize(
        &self,
        id: &str,
        token: Option<&str>,
    ) -> Result<Arc<PullDestination>, ConsumeError> {
        let token = token.ok_or(ConsumeError::Unauthorized)?;
        match self.destinations.get(id) {
            Some(destination) if destination.tokens.accepts(token) => Ok(destination.clone()),
            Some(_) => Err(ConsumeError::Unauthorized),
            None if self.destinations.values().any(|d| d.tokens.accepts(token)) => {
                Err(ConsumeError::NotFound(id.to_owned()))
            }
            None => Err(ConsumeError::Unauthorized),
        }
    }
}

/// Registers the consumer routes behind their tokens; needs `web::Data<ConsumeState>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .service(handlers::lease_messages)
            .service(handlers::ack_messages)
            .service(handlers::nack_messages)
            .wrap(middleware::from_fn(auth::require_consumer_token))
            .default_service(web::to(method_not_allowed_or_not_found)),
    );
}

/// The consumer routes' part of the admin API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::lease_messages,
        handlers::ack_messages,
        handlers::nack_messages
    ),
    modifiers(&ConsumerTokenScheme)
)]
struct ConsumeApi;

struct ConsumerTokenScheme;

impl Modify for ConsumerTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "consumer_token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "one of the pull destination's consumer_tokens (not the admin token)",
                        ))
                        .build(),
                ),
            );
    }
}

/// Adds the consumer routes to the admin API's document.
pub struct ConsumeOperations;

impl Modify for ConsumeOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(ConsumeApi::openapi());
    }
}
