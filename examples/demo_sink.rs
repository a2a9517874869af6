//! A tiny destination for trying hookgate locally: prints one line per delivery and answers 200.
//!
//! Run: `cargo run --release --example demo_sink` (listens on `DEMO_SINK_LISTEN`, default
//! 127.0.0.1:9000). `scripts/run` starts it for you.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::Method, web};

/// Bytes of the body shown on each line.
const PREVIEW_BYTES: usize = 200;

async fn receive(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if req.method() != Method::POST {
        return HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", "POST"))
            .finish();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    let preview =
        String::from_utf8_lossy(&body[..body.len().min(PREVIEW_BYTES)]).replace(['\n', '\r'], " ");
    let ellipsis = if body.len() > PREVIEW_BYTES {
        "…"
    } else {
        ""
    };
    println!(
        "{} {} event_id={} source={} type={} attempt={} bytes={} body={}{}",
        req.method(),
        req.path(),
        header("X-Hookgate-Event-Id"),
        header("X-Hookgate-Source"),
        header("X-Hookgate-Event-Type"),
        header("X-Hookgate-Attempt"),
        body.len(),
        preview,
        ellipsis,
    );
    HttpResponse::Ok().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::var("DEMO_SINK_LISTEN").unwrap_or_else(|_| "127.0.0.1:9000".into());
    println!("demo sink listening on http://{listen} (POST any path)");
    HttpServer::new(|| {
        App::new()
            // Accept bodies well above hookgate's default max_body_bytes (1 MiB).
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .default_service(web::to(receive))
    })
    .bind(&listen)?
    .run()
    .await
}
