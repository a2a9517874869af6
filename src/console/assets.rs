//! The console's stylesheet and script, compiled into the binary and served with an `ETag`
//! so browsers revalidate cheaply and never keep a stale copy after an upgrade.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

pub const STYLESHEET: &str = "/assets/console.css";
pub const SCRIPT: &str = "/assets/console.js";

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

static CSS_TAG: LazyLock<String> = LazyLock::new(|| entity_tag(CSS));
static JS_TAG: LazyLock<String> = LazyLock::new(|| entity_tag(JS));

pub async fn stylesheet(req: HttpRequest) -> HttpResponse {
    serve(&req, CSS, &CSS_TAG, "text/css; charset=utf-8")
}

pub async fn script(req: HttpRequest) -> HttpResponse {
    serve(&req, JS, &JS_TAG, "text/javascript; charset=utf-8")
}

fn serve(req: &HttpRequest, text: &'static str, tag: &str, content_type: &str) -> HttpResponse {
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|presented| presented.as_bytes() == tag.as_bytes());
    let mut response = if unchanged {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok().content_type(content_type).body(text)
    };
    let headers = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, tag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A strong entity tag: the start of the content's SHA-256.
fn entity_tag(text: &str) -> String {
    format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(text.as_bytes())[..12])
    )
}
