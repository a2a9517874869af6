//! Logging: the tracing subscriber, and a request id on every request and its log lines.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// The header that carries the request id in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Log lines waiting for standard error at most; beyond them new lines are dropped (counted).
const LOG_BUFFER_LINES: usize = 64 * 1024;

/// Lines dropped because standard error could not be written (its reader gone).
static LINES_DROPPED_BROKEN: AtomicU64 = AtomicU64::new(0);
/// Lines dropped because standard error was not being read fast enough (the buffer was full).
static LINES_DROPPED_STALLED: OnceLock<ErrorCounter> = OnceLock::new();

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), and
/// `HOOKGATE_LOG_FORMAT=json` switches to one JSON object per line. Lines are written by a
/// thread of their own: a request or a shutdown never waits for standard error, even when
/// its reader stalls (a paused `| less`, a slow log shipper), which would otherwise block
/// every thread that logs. Keep the guard until exit: dropping it writes what is buffered.
pub fn init() -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let json = std::env::var("HOOKGATE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .thread_name("hookgate-log")
        .finish(LossyStderr);
    let dropped = writer.error_counter();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .log_internal_errors(false)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()));
    let installed = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    // A second call (tests start many apps in one process) keeps the first subscriber.
    installed.ok()?;
    let _ = LINES_DROPPED_STALLED.set(dropped);
    Some(guard)
}

/// Log lines dropped so far, because standard error was gone or not read fast enough.
pub fn lines_dropped() -> u64 {
    let stalled = LINES_DROPPED_STALLED
        .get()
        .map_or(0, |counter| counter.dropped_lines() as u64);
    LINES_DROPPED_BROKEN.load(Ordering::Relaxed) + stalled
}

/// Standard error for log lines, where a line that cannot be written (the reader of a piped
/// stderr has gone, as when `hookgate serve | tee` is interrupted) is dropped and counted
/// instead of failing. A failing log write must never cost a request its answer or stop a
/// shutdown, and tracing-subscriber would report it with `eprintln!`, which panics on that
/// same dead stderr (hence also `log_internal_errors(false)`).
struct LossyStderr;

impl Write for LossyStderr {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        if io::stderr().write_all(line).is_err() {
            LINES_DROPPED_BROKEN.fetch_add(1, Ordering::Relaxed);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Standard error is unbuffered; a failed flush has nothing left to lose.
        let _ = io::stderr().flush();
        Ok(())
    }
}

/// Middleware: takes a sane incoming `X-Request-Id` or makes one, runs the request inside a
/// span that carries it, echoes it on the response, and logs one line per request. Only
/// method, path, status and timing are logged: never headers or bodies.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = std::time::Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::debug!(
            status,
            micros = started.elapsed().as_micros() as u64,
            "request done"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

fn is_safe_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
