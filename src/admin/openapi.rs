//! `GET /admin/openapi.json`: the OpenAPI 3 document, generated from the handlers themselves.

use super::PREFIX;
use super::error::AdminError;
use super::strict_query::{NoQuery, StrictQuery};
use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The admin API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "hookgate admin API"),
    paths(
        super::events::list,
        super::events::detail,
        super::events::payload,
        super::replay::replay_event,
        super::deliveries::list,
        super::handshakes::list,
        super::stats::stats,
        crate::replays::api::create,
        crate::replays::api::progress,
        document,
    ),
    // Used as a query parameter's type, which utoipa refers to without registering it.
    components(schemas(crate::store::DeliveryState)),
    modifiers(&EveryRoute),
    security(("bearer" = []))
)]
pub struct AdminApi;

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";

/// What every admin route shares: the bearer scheme, 401 without it, 503 without storage,
/// 400 for a query parameter it does not take, and errors served as `application/problem+json`
/// (utoipa writes `application/json` for a `body = Problem`).
struct EveryRoute;

impl Modify for EveryRoute {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let problem = |description: &str| -> RefOr<Response> {
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
                .into()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, description) in [
                    ("401", "missing or wrong admin token"),
                    ("503", "storage unavailable; retry after Retry-After"),
                ] {
                    responses.insert(status.into(), problem(description));
                }
                responses
                    .entry("400".into())
                    .or_insert_with(|| problem("a query parameter the route does not take"));
                let errors = responses
                    .iter_mut()
                    .filter(|(status, _)| status.starts_with(['4', '5']));
                for (_, response) in errors {
                    if let RefOr::T(response) = response
                        && let Some(content) = response.content.shift_remove(JSON)
                    {
                        response.content.insert(PROBLEM_JSON.to_string(), content);
                    }
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(
    context_path = PREFIX,
    tag = "meta",
    responses((status = 200, description = "the OpenAPI 3 document", content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn document(_: StrictQuery<NoQuery>) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(AdminApi::openapi()))
}
