//! A known admin route asked with a method it does not take is `405 Method Not Allowed` with
//! `Allow` (a method-guarded route alone would answer 404, as if the route did not exist). The
//! routes and their methods come from the OpenAPI document, so a new route needs no list here.

use super::AdminApi;
use crate::problem::Problem;
use actix_web::dev::ResourceDef;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use std::sync::OnceLock;
use utoipa::OpenApi;

/// Each documented path, and its methods as an `Allow` value.
fn routes() -> &'static [(ResourceDef, String)] {
    static ROUTES: OnceLock<Vec<(ResourceDef, String)>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        AdminApi::openapi()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, documented)| documented.then_some(method))
                .collect();
                (ResourceDef::new(path.as_str()), methods.join(", "))
            })
            .collect()
    })
}

/// The admin scope's fallback: 405 with `Allow` for a documented path, else 404.
pub async fn method_not_allowed_or_not_found(req: HttpRequest) -> HttpResponse {
    let Some((_, allow)) = routes()
        .iter()
        .find(|(route, _)| route.is_match(req.path()))
    else {
        return Problem::new(StatusCode::NOT_FOUND, "not_found", "No such route").response();
    };
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
    .with_detail(format!("{} {} takes {allow}", req.method(), req.path()))
    .response();
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}
