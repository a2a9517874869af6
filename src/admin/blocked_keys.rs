//! `GET /admin/destinations/{id}/blocked-keys` and `POST …/blocked-keys/skip`: the ordering
//! keys an `on_dead = "block"` destination holds back behind a dead delivery, and how an
//! operator lets one go on without replaying it. (Replaying the dead delivery's event through
//! `POST /admin/events/{id}/replay` unblocks the key too, delivering that event first.)

use super::error::AdminError;
use super::strict_query::{NoQuery, StrictQuery};
use super::{AdminState, PREFIX, page};
use crate::store::ordering::BlockedKey;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The destination of the path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DestinationPath {
    /// A destination id.
    id: String,
}

/// Parameters of `GET /admin/destinations/{id}/blocked-keys`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockedKeysQuery {
    /// How many keys, 1 to 500 (default 50).
    limit: Option<u32>,
}

/// The blocked keys of a destination, by key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BlockedKeys {
    blocked_keys: Vec<BlockedKey>,
}

/// Which key to let go on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipRequest {
    key: String,
}

/// The dead deliveries a skip let the key go on past (they stay dead, and replayable).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    skipped: Vec<Uuid>,
}

/// The ordering keys held back by a dead delivery (with `on_dead = "block"`), each with that
/// delivery and how many wait behind it; empty for any other destination.
#[utoipa::path(
    operation_id = "list_blocked_keys",
    context_path = PREFIX,
    tag = "ordering",
    params(DestinationPath, BlockedKeysQuery),
    responses(
        (status = 200, description = "the blocked keys, by key", body = BlockedKeys),
        (status = 400, description = "a query parameter that is unknown or invalid", body = crate::problem::Problem)
    )
)]
#[get("/destinations/{id}/blocked-keys")]
pub async fn list(
    state: web::Data<AdminState>,
    path: web::Path<DestinationPath>,
    query: StrictQuery<BlockedKeysQuery>,
) -> Result<HttpResponse, AdminError> {
    let limit = page::limit(query.into_inner().limit)?;
    let blocked_keys = match state.blocking_destinations.contains(&path.id) {
        true => state.store.blocked_keys(&path.id, limit).await?,
        false => Vec::new(),
    };
    Ok(HttpResponse::Ok().json(BlockedKeys { blocked_keys }))
}

/// Lets a blocked key go on: its dead deliveries stay dead but no longer hold it, and the next
/// delivery of the key is due. Idempotent: a key nothing holds (skipped already, never
/// blocked, or of a destination whose dead deliveries block nothing) skips nothing.
#[utoipa::path(
    operation_id = "skip_blocked_key",
    context_path = PREFIX,
    tag = "ordering",
    params(DestinationPath),
    request_body = SkipRequest,
    responses(
        (status = 200, description = "the dead deliveries skipped past (none when the key was not blocked)", body = Skipped),
        (status = 400, description = "a body that is not a skip request", body = crate::problem::Problem)
    )
)]
#[post("/destinations/{id}/blocked-keys/skip")]
pub async fn skip(
    state: web::Data<AdminState>,
    path: web::Path<DestinationPath>,
    _: StrictQuery<NoQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let request: SkipRequest = super::from_json_object(body.trim_ascii())
        .map_err(|err| AdminError::BadRequest(format!("body: {err}")))?;
    let skipped = match state.blocking_destinations.contains(&path.id) {
        true => state.store.skip_blocked_key(&path.id, &request.key).await?,
        false => Vec::new(),
    };
    if !skipped.is_empty() {
        state.wake_workers();
    }
    Ok(HttpResponse::Ok().json(Skipped { skipped }))
}
