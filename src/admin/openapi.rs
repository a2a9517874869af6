//! `GET /admin/openapi.json`: the OpenAPI 3 document, generated from the handlers themselves.

use super::PREFIX;
use super::error::AdminError;
use super::page::PageParameters;
use super::strict_query::{NoQuery, StrictQuery};
use crate::consume::ConsumeOperations;
use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// Defines [`AdminApi`] over the operations [`super::admin_operations`] lists.
macro_rules! document_operations {
    ($($($segment:ident)::+),*) => {
        /// The admin API's OpenAPI document.
        #[derive(OpenApi)]
        #[openapi(
            info(title = "hookgate admin API"),
            paths($($($segment)::+),*),
            // Used as a query parameter's type, which utoipa refers to without registering it.
            components(schemas(crate::store::DeliveryState)),
            modifiers(&ConsumeOperations, &EveryRoute, &PageParameters),
            security(("bearer" = []))
        )]
        pub struct AdminApi;
    };
}
super::admin_operations!(document_operations);

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";

/// What every route of the document shares: the bearer scheme (the admin token's; consumer
/// routes name their own), 401 without it, 503 without storage,
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
        for (path, item) in openapi.paths.paths.iter_mut() {
            let token = if path.starts_with("/consume/") {
                "missing or wrong consumer token"
            } else {
                "missing or wrong admin token"
            };
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, description) in [
                    ("401", token),
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
    operation_id = "get_openapi_document",
    context_path = PREFIX,
    tag = "meta",
    responses((status = 200, description = "the OpenAPI 3 document", content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn document(_: StrictQuery<NoQuery>) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(AdminApi::openapi()))
}

#[cfg(test)]
mod tests {
    use super::AdminApi;
    use crate::admin::page;
    use serde_json::Value;
    use std::collections::HashSet;
    use utoipa::OpenApi;

    /// Every operation of the api, as (method, path, operation).
    fn operations(api: &Value) -> Vec<(String, String, Value)> {
        let mut operations = Vec::new();
        for (path, item) in api["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                operations.push((method.clone(), path.clone(), operation.clone()));
            }
        }
        operations
    }

    #[test]
    fn every_operation_has_an_id_of_its_own_and_every_response_a_description() {
        let api = serde_json::to_value(AdminApi::openapi()).unwrap();
        let mut ids = HashSet::new();
        for (method, path, operation) in operations(&api) {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty() && ids.insert(id.to_owned()),
                "{method} {path}: {id:?}"
            );
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {path} {status}");
            }
        }
    }

    #[test]
    fn every_limit_parameter_states_the_bounds_the_check_enforces() {
        let api = serde_json::to_value(AdminApi::openapi()).unwrap();
        let limits: Vec<Value> = operations(&api)
            .into_iter()
            .flat_map(|(_, _, operation)| operation["parameters"].as_array().cloned())
            .flatten()
            .filter(|parameter| parameter["name"] == "limit")
            .collect();
        assert_eq!(
            limits.len(),
            5,
            "events, deliveries, handshakes, replays and blocked keys take a limit"
        );
        for parameter in limits {
            let bound = |key: &str| parameter["schema"][key].as_u64().unwrap() as u32;
            let (minimum, maximum) = (bound("minimum"), bound("maximum"));
            assert!(page::limit(Some(minimum)).is_ok() && page::limit(Some(maximum)).is_ok());
            assert!(page::limit(Some(minimum - 1)).is_err());
            assert!(page::limit(Some(maximum + 1)).is_err());
            assert_eq!(
                page::limit(None).unwrap(),
                parameter["schema"]["default"].as_u64().unwrap() as u32
            );
        }
    }
}
