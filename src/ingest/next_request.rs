//! A kept-alive connection must send its next request in time, or it is closed.
//!
//! actix-http gives only a connection's *first* request head a deadline (its head timer is
//! armed once per connection), and it clears its keep-alive timer as soon as any byte arrives.
//! So a client that answers a response by trickling its next request's head a byte a second
//! would hold its connection for ever, and a few hundred such clients would hold every
//! connection providers need. Here each connection carries a [`ConnectionWatch`]: when a
//! response is sent it starts a clock, the next request's head (which the middleware sees as
//! soon as it is complete) stops it, and a connection whose clock runs out is shut down.
//!
//! The connection is shut down through a duplicate of its socket's descriptor, owned by the
//! watch and so closed with the connection (a duplicate that outlived it would keep the socket
//! open). Only the ingest listener is watched: its answers are small, so "answered" is when the
//! handler returns; a large admin download could outlast the clock.

use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::any::Any;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

/// The deadline value meaning "a request is being served": no clock runs.
const SERVING: u64 = 0;

/// Watches one connection between its requests.
#[derive(Clone)]
pub struct ConnectionWatch(Arc<Watched>);

struct Watched {
    /// How long after an answer the next request's head must be complete.
    allowance: Duration,
    /// Milliseconds since [`epoch`] when the clock runs out, or [`SERVING`].
    deadline_ms: AtomicU64,
    /// Whether the task that enforces the deadline was started (at the first answer).
    watching: AtomicBool,
    /// A duplicate of the connection's socket, used only to shut it down.
    socket: TcpStream,
}

impl ConnectionWatch {
    /// The `on_connect` hook: attaches a watch to a new connection (plain TCP or TLS) whose
    /// next request must be complete within `allowance` of each answer. A connection whose
    /// socket cannot be duplicated (out of descriptors) goes unwatched rather than refused.
    pub fn attach(io: &dyn Any, extensions: &mut Extensions, allowance: Duration) {
        let Some(tcp) = tcp_stream(io) else {
            return;
        };
        match tcp.as_fd().try_clone_to_owned() {
            Ok(fd) => extensions.insert(ConnectionWatch(Arc::new(Watched {
                allowance,
                deadline_ms: AtomicU64::new(SERVING),
                watching: AtomicBool::new(false),
                socket: TcpStream::from(fd),
            }))),
            Err(error) => {
                tracing::warn!(%error, "cannot watch a connection for slow requests");
                None
            }
        };
    }

    fn request_started(&self) {
        self.0.deadline_ms.store(SERVING, Ordering::Relaxed);
    }

    fn answered(&self) {
        let deadline = millis_since_epoch(Instant::now() + self.0.allowance);
        self.0.deadline_ms.store(deadline, Ordering::Relaxed);
        if !self.0.watching.swap(true, Ordering::Relaxed) {
            actix_web::rt::spawn(enforce(Arc::downgrade(&self.0)));
        }
    }
}

/// The middleware half: stops the connection's clock when a request arrives and starts it
/// again when that request is answered.
pub async fn watch_next_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let watch = req.conn_data::<ConnectionWatch>().cloned();
    if let Some(watch) = &watch {
        watch.request_started();
    }
    let response = next.call(req).await;
    if let Some(watch) = watch {
        watch.answered();
    }
    response
}

/// Sleeps until the connection's clock could have run out and shuts the connection down when
/// it has; ends when the connection has closed by itself.
async fn enforce(watched: Weak<Watched>) {
    loop {
        let wait = {
            let Some(watched) = watched.upgrade() else {
                return;
            };
            let deadline = watched.deadline_ms.load(Ordering::Relaxed);
            if deadline == SERVING {
                watched.allowance
            } else {
                let now = millis_since_epoch(Instant::now());
                if now >= deadline {
                    tracing::debug!("closing a kept-alive connection whose next request is late");
                    crate::metrics::slow_connection_closed();
                    // Already closed by its peer is as good.
                    let _ = watched.socket.shutdown(Shutdown::Both);
                    return;
                }
                Duration::from_millis(deadline - now)
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// The connection's TCP stream, under TLS or not.
fn tcp_stream(io: &dyn Any) -> Option<&actix_web::rt::net::TcpStream> {
    if let Some(tcp) = io.downcast_ref::<actix_web::rt::net::TcpStream>() {
        return Some(tcp);
    }
    io.downcast_ref::<actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>>()
        .map(|tls| tls.get_ref().0)
}

/// Milliseconds from a process-wide origin to `at` (at least 1, so never [`SERVING`]).
fn millis_since_epoch(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(at.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX) + 1
}
