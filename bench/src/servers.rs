//! The two tiny actix-web servers of the benchmark: the bare HTTP ceiling (answers 202 to
//! anything) and the fast delivery sink (answers 200, or a chosen failure status, counts
//! deliveries and measures how long each took from the moment the load driver sent it; over
//! HTTP or HTTPS).

use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::latency::{self, Percentiles};
use crate::payload;

/// Starts the bare 202 server on `listener` with `workers` threads, on a thread of its own; it
/// lives until the process exits.
pub fn spawn_ceiling(listener: TcpListener, workers: usize) {
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| App::new().default_service(web::to(accept)))
                .workers(workers)
                .listen(listener)?
                .run();
            server.await
        })
    });
}

/// The whole of the ceiling's work: read the body, answer 202 with a small JSON body.
async fn accept(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Accepted()
        .content_type("application/json")
        .body(r#"{"status":"accepted"}"#)
}

/// The header the bench's transform (`bench/transforms/reshape.js`) adds to what it reshapes,
/// so the sink can tell that the transform ran.
pub const RESHAPED_HEADER: &str = "x-bench-transform";

/// What the sink has seen since it started or was last reset.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SinkStats {
    /// Delivery attempts received, answered or failed.
    pub received: u64,
    /// Of those, the attempts answered with a failure status (see [`run_sink`]).
    #[serde(default)]
    pub failed: u64,
    /// Of those, the attempts carrying [`RESHAPED_HEADER`]: reshaped by the bench's transform.
    #[serde(default)]
    pub reshaped: u64,
    /// Send→delivered latency of the deliveries answered 2xx whose body carries the driver's
    /// `sent_at_us`.
    pub latency: Percentiles,
}

struct SinkState {
    /// The status every delivery is answered with.
    status: StatusCode,
    received: u64,
    failed: u64,
    reshaped: u64,
    latency: Histogram<u64>,
}

/// The query of `POST /mode`.
#[derive(Deserialize)]
struct Mode {
    status: u16,
}

/// Runs the sink on `listen` until the process is stopped. `POST` anything but the routes
/// below is a delivery, answered with `status` (200 for a healthy destination; e.g. 500 makes
/// every delivery fail). `GET /stats` returns [`SinkStats`] as JSON, `POST /reset` clears
/// them, `POST /mode?status=N` changes the status deliveries are answered with.
/// With `tls`, it serves HTTPS (HTTP/1.1) with that configuration.
pub fn run_sink(
    listen: &str,
    workers: usize,
    status: u16,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<()> {
    let status = StatusCode::from_u16(status)
        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?;
    let state = sink_state(status);
    actix_web::rt::System::new().block_on(async move {
        let server =
            HttpServer::new(move || App::new().app_data(state.clone()).configure(sink_routes))
                .workers(workers);
        let server = match tls {
            Some(tls) => server.bind_rustls_0_23(listen, tls)?,
            None => server.bind(listen)?,
        };
        server.run().await
    })
}

/// A fresh sink state answering deliveries with `status`.
fn sink_state(status: StatusCode) -> web::Data<Mutex<SinkState>> {
    web::Data::new(Mutex::new(SinkState {
        status,
        received: 0,
        failed: 0,
        reshaped: 0,
        latency: latency::new_histogram(),
    }))
}

/// The sink's routes; the state comes from [`sink_state`].
fn sink_routes(config: &mut web::ServiceConfig) {
    config
        .route("/stats", web::get().to(stats))
        .route("/reset", web::post().to(reset))
        .route("/mode", web::post().to(mode))
        .default_service(web::to(deliver));
}

/// Locks the sink's state, poisoned or not: its counters stay usable after a panicked handler.
fn lock(state: &Mutex<SinkState>) -> MutexGuard<'_, SinkState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn deliver(
    state: web::Data<Mutex<SinkState>>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let now = payload::now_us();
    let mut state = lock(&state);
    state.received += 1;
    if request.headers().contains_key(RESHAPED_HEADER) {
        state.reshaped += 1;
    }
    if !state.status.is_success() {
        state.failed += 1;
    } else if let Some(sent) = payload::sent_at_us(&body) {
        latency::record(&mut state.latency, now.saturating_sub(sent));
    }
    HttpResponse::build(state.status).finish()
}

async fn stats(state: web::Data<Mutex<SinkState>>) -> HttpResponse {
    let state = lock(&state);
    HttpResponse::Ok().json(SinkStats {
        received: state.received,
        failed: state.failed,
        reshaped: state.reshaped,
        latency: Percentiles::of(&state.latency),
    })
}

async fn reset(state: web::Data<Mutex<SinkState>>) -> HttpResponse {
    let mut state = lock(&state);
    state.received = 0;
    state.failed = 0;
    state.reshaped = 0;
    state.latency.reset();
    HttpResponse::NoContent().finish()
}

async fn mode(state: web::Data<Mutex<SinkState>>, mode: web::Query<Mode>) -> HttpResponse {
    let Ok(status) = StatusCode::from_u16(mode.status) else {
        return HttpResponse::BadRequest().body("status must be an HTTP status code");
    };
    lock(&state).status = status;
    HttpResponse::NoContent().finish()
}

#[cfg(test)]
mod tests {
    use actix_web::test;

    use super::*;

    #[actix_web::test]
    async fn the_sink_fails_deliveries_once_switched_and_counts_them() {
        let app = test::init_service(
            App::new()
                .app_data(sink_state(StatusCode::OK))
                .configure(sink_routes),
        )
        .await;
        let deliver = || {
            test::TestRequest::post()
                .uri("/hook")
                .set_payload(r#"{"sent_at_us":1}"#)
                .to_request()
        };
        assert_eq!(test::call_service(&app, deliver()).await.status(), 200);
        let reshaped = test::TestRequest::post()
            .uri("/hook/push/widgets")
            .insert_header((RESHAPED_HEADER, "reshape"))
            .set_payload(r#"{"repo":"acme/widgets"}"#);
        assert_eq!(
            test::call_service(&app, reshaped.to_request())
                .await
                .status(),
            200
        );

        let switch = test::TestRequest::post().uri("/mode?status=500");
        assert_eq!(
            test::call_service(&app, switch.to_request()).await.status(),
            204
        );
        assert_eq!(test::call_service(&app, deliver()).await.status(), 500);
        assert_eq!(test::call_service(&app, deliver()).await.status(), 500);

        let stats: SinkStats = test::call_and_read_body_json(
            &app,
            test::TestRequest::get().uri("/stats").to_request(),
        )
        .await;
        assert_eq!((stats.received, stats.failed, stats.reshaped), (4, 2, 1));
        assert_eq!(
            stats.latency.count, 1,
            "only the delivered one has a latency"
        );

        let bad = test::TestRequest::post().uri("/mode?status=1000");
        assert_eq!(
            test::call_service(&app, bad.to_request()).await.status(),
            400
        );
    }
}
