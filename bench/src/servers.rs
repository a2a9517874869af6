//! The two tiny actix-web servers of the benchmark: the bare HTTP ceiling (answers 202 to
//! anything) and the fast delivery sink (answers 200, counts deliveries and measures how long
//! each took from the moment the load driver sent it).

use std::net::TcpListener;
use std::sync::Mutex;

use actix_web::{App, HttpResponse, HttpServer, web};
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

/// What the sink has seen since it started or was last reset.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SinkStats {
    /// Deliveries received.
    pub received: u64,
    /// Send→delivered latency of deliveries whose body carries the driver's `sent_at_us`.
    pub latency: Percentiles,
}

struct SinkState {
    received: u64,
    latency: Histogram<u64>,
}

/// Runs the sink on `listen` until the process is stopped: `POST` anything but `/reset` is a
/// delivery (200), `GET /stats` returns [`SinkStats`] as JSON, `POST /reset` clears them.
pub fn run_sink(listen: &str, workers: usize) -> std::io::Result<()> {
    let state = web::Data::new(Mutex::new(SinkState {
        received: 0,
        latency: latency::new_histogram(),
    }));
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/stats", web::get().to(stats))
                .route("/reset", web::post().to(reset))
                .default_service(web::to(deliver))
        })
        .workers(workers)
        .bind(listen)?
        .run()
        .await
    })
}

async fn deliver(state: web::Data<Mutex<SinkState>>, body: web::Bytes) -> HttpResponse {
    let now = payload::now_us();
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    state.received += 1;
    if let Some(sent) = payload::sent_at_us(&body) {
        latency::record(&mut state.latency, now.saturating_sub(sent));
    }
    HttpResponse::Ok().finish()
}

async fn stats(state: web::Data<Mutex<SinkState>>) -> HttpResponse {
    let state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    HttpResponse::Ok().json(SinkStats {
        received: state.received,
        latency: Percentiles::of(&state.latency),
    })
}

async fn reset(state: web::Data<Mutex<SinkState>>) -> HttpResponse {
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    state.received = 0;
    state.latency.reset();
    HttpResponse::NoContent().finish()
}
