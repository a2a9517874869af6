//! `GET /admin/handshakes`: the endpoint checks hookgate answered for providers, newest first,
//! with what an operator must act on (Notion's verification token to configure, say).

use super::error::AdminError;
use super::strict_query::StrictQuery;
use super::{AdminState, PREFIX, page};
use crate::store::HandshakeRow;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

/// Parameters of `GET /admin/handshakes`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HandshakeQuery {
    /// Only this source's handshakes.
    source: Option<String>,
    /// How many, 1 to 500 (default 50). hookgate keeps each source's most recent 100.
    limit: Option<u32>,
}

/// Recent handshakes, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandshakeList {
    handshakes: Vec<HandshakeRow>,
}

/// Recent handshakes (Slack url_verification, Meta subscribe, X CRC, Notion's verification
/// token, …), newest first; `action` says what the operator must do, when anything.
#[utoipa::path(
    operation_id = "list_handshakes",
    context_path = PREFIX,
    tag = "handshakes",
    params(HandshakeQuery),
    responses(
        (status = 200, description = "the most recent handshakes", body = HandshakeList),
        (status = 400, description = "a query parameter that is unknown or invalid", body = crate::problem::Problem)
    )
)]
#[get("/handshakes")]
pub async fn list(
    state: web::Data<AdminState>,
    query: StrictQuery<HandshakeQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    let limit = page::limit(query.limit)?;
    let handshakes = state
        .store
        .recent_handshakes(query.source.as_deref(), i64::from(limit))
        .await?;
    Ok(HttpResponse::Ok().json(HandshakeList { handshakes }))
}
