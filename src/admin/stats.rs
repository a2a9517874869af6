//! `GET /admin/stats`: received per source, delivery states per destination.

use super::error::AdminError;
use super::strict_query::{NoQuery, StrictQuery};
use super::{AdminState, PREFIX};
use crate::store::{DestinationStats, SourceStats};
use actix_web::{HttpResponse, get, web};
use serde::Serialize;

/// Totals since the database was created (see the store's stats module for how they stay
/// fast and exact).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsResponse {
    sources: Vec<SourceStats>,
    destinations: Vec<DestinationStats>,
}

/// Per source: received; per destination: delivered, pending, dead, oldest pending age.
#[utoipa::path(
    operation_id = "get_stats",
    context_path = PREFIX,
    tag = "stats",
    responses((status = 200, description = "the totals", body = StatsResponse))
)]
#[get("/stats")]
pub async fn stats(
    state: web::Data<AdminState>,
    _: StrictQuery<NoQuery>,
) -> Result<HttpResponse, AdminError> {
    let stats = state.store.stats().await?;
    Ok(HttpResponse::Ok().json(StatsResponse {
        sources: stats.sources,
        destinations: stats.destinations,
    }))
}
