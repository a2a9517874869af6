//! `hookgate demo-sink`: a tiny destination for trying hookgate locally. It prints one line
//! per delivery, under the admin API's names, and answers 200.
//!
//! It lives in the binary (not in a cargo example) so that trying hookgate builds nothing but
//! hookgate, and so that it runs wherever the binary runs, containers included.

use actix_web::http::header::HeaderMap;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::Method, web};

/// Bytes of the body shown on each line.
const PREVIEW_BYTES: usize = 200;
/// Bodies well above hookgate's default `max_body_bytes` (1 MiB) are accepted.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Serves until Ctrl-C, printing each delivery on standard output.
pub async fn run(listen: &str) -> anyhow::Result<()> {
    let server = HttpServer::new(|| {
        App::new()
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .default_service(web::to(receive))
    })
    .workers(1)
    .bind(listen)
    .map_err(|err| anyhow::anyhow!("demo sink cannot listen on {listen}: {err}"))?;
    println!("demo sink listening on http://{listen} (POST any path)");
    server.run().await?;
    Ok(())
}

async fn receive(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if req.method() != Method::POST {
        return HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", "POST"))
            .finish();
    }
    println!("{}", describe(req.path(), req.headers(), &body));
    HttpResponse::Ok().finish()
}

/// One line for a delivery: the hookgate event id (`id`), the provider's (`event_id`), the
/// delivery and attempt, so a replay (a new `delivery_id`) is told apart from a retry (the
/// same `delivery_id`, a higher `attempt`).
fn describe(path: &str, headers: &HeaderMap, body: &[u8]) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    };
    let preview =
        String::from_utf8_lossy(&body[..body.len().min(PREVIEW_BYTES)]).replace(['\n', '\r'], " ");
    let ellipsis = if body.len() > PREVIEW_BYTES {
        "…"
    } else {
        ""
    };
    format!(
        "POST {path} id={} event_id={} source={} event_type={} delivery_id={} attempt={} bytes={} body={preview}{ellipsis}",
        header("X-Hookgate-Event-Id"),
        header("X-Hookgate-Provider-Event-Id"),
        header("X-Hookgate-Source"),
        header("X-Hookgate-Event-Type"),
        header("X-Hookgate-Delivery-Id"),
        header("X-Hookgate-Attempt"),
        body.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn a_delivery_is_described_under_the_admin_api_names() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-hookgate-event-id", "0197-hookgate"),
            ("x-hookgate-provider-event-id", "evt_0001"),
            ("x-hookgate-source", "stripe"),
            ("x-hookgate-delivery-id", "0197-delivery"),
            ("x-hookgate-attempt", "2"),
        ] {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let line = describe("/hooks", &headers, b"{\"id\":\"evt_0001\"}\n");
        assert_eq!(
            line,
            "POST /hooks id=0197-hookgate event_id=evt_0001 source=stripe event_type=- \
             delivery_id=0197-delivery attempt=2 bytes=18 body={\"id\":\"evt_0001\"} "
        );
    }

    #[test]
    fn long_bodies_are_cut_with_an_ellipsis() {
        let line = describe("/", &HeaderMap::new(), &[b'x'; 500]);
        assert!(line.ends_with(&format!("body={}…", "x".repeat(PREVIEW_BYTES))));
        assert!(line.contains("bytes=500"));
    }
}
