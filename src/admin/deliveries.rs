//! `GET /admin/deliveries`: the dead-letter view (or deliveries in any other state).

use super::error::AdminError;
use super::strict_query::StrictQuery;
use super::{AdminState, PREFIX, page};
use crate::store::{DeliveryFilter, DeliveryState, DeliverySummary};
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

/// Parameters of `GET /admin/deliveries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Deliveries in this state (default `dead`).
    status: Option<DeliveryState>,
    /// Only deliveries to this destination.
    destination: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page (opaque, base64url); absent or empty: the first page.
    cursor: Option<String>,
}

/// One page of deliveries, most recently changed first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryPage {
    deliveries: Vec<DeliverySummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// The dead-letter view: dead deliveries (or those in `status`), most recent first.
#[utoipa::path(
    operation_id = "list_deliveries",
    context_path = PREFIX,
    tag = "deliveries",
    params(DeliveryQuery),
    responses(
        (status = 200, description = "one page of deliveries", body = DeliveryPage),
        (status = 400, description = "a query parameter that is unknown or invalid", body = crate::problem::Problem)
    )
)]
#[get("/deliveries")]
pub async fn list(
    state: web::Data<AdminState>,
    query: StrictQuery<DeliveryQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    let limit = page::limit(query.limit)?;
    let filter = DeliveryFilter {
        state: query.status.unwrap_or(DeliveryState::Dead),
        destination: query.destination,
        after: page::position(query.cursor.as_deref())?,
    };
    let rows = state.store.search_deliveries(&filter, limit + 1).await?;
    let (deliveries, next_cursor) = page::paginate(rows, limit, DeliverySummary::position);
    Ok(HttpResponse::Ok().json(DeliveryPage {
        deliveries,
        next_cursor,
    }))
}
