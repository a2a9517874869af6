//! Connections beyond the served ones are answered at once, not left waiting.
//!
//! The ingest listener serves at most `server.max_connections` connections: each carries a
//! request, and more of them in flight only lengthen every answer (bench/RESULTS.md). The
//! connections beyond them used to wait in the kernel's listen queue, unread, until a served
//! one closed, which under a flood from kept-alive senders was never: they saw connect
//! timeouts after tens of seconds, or their handshakes dropped. Now as many again are accepted
//! as *shed* connections. A webhook on one is answered `503` + `Retry-After` (`overloaded`)
//! as soon as its body is read, and every answer on one closes it, so its sender comes back
//! through admission later and the room turns over within a round trip. Only beyond both do
//! connections wait in the kernel's queue, which keeps memory bounded.
//!
//! Whether a connection is served or shed is decided once, when it is accepted: a served
//! connection holds its [`ServedSlot`] until it closes.

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The count of served ingest connections, shared by the listener's worker threads.
#[derive(Clone)]
pub struct ServedConnections {
    limit: usize,
    served: Arc<AtomicUsize>,
}

impl ServedConnections {
    /// Serves at most `limit` connections at once (at least one).
    pub fn new(limit: usize) -> ServedConnections {
        ServedConnections {
            limit: limit.max(1),
            served: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Connections the listener accepts at once: the served ones and as many shed.
    pub fn accepted_at_once(&self) -> usize {
        self.limit * 2
    }

    /// The `on_connect` hook: the new connection takes a served slot when one is free, and
    /// is marked shed otherwise.
    pub fn admit(&self, extensions: &mut Extensions) {
        match self.take_slot() {
            Some(slot) => {
                extensions.insert(slot);
            }
            None => {
                extensions.insert(Shed { served: self.limit });
            }
        }
    }

    fn take_slot(&self) -> Option<ServedSlot> {
        self.served
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |served| {
                (served < self.limit).then_some(served + 1)
            })
            .ok()
            .map(|_| ServedSlot(Arc::clone(&self.served)))
    }
}

/// A served connection's place, given back when the connection closes (actix drops a
/// connection's extensions with it).
pub struct ServedSlot(Arc<AtomicUsize>);

impl Drop for ServedSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Marks a connection accepted while `served` others were being served.
#[derive(Clone, Copy, Debug)]
pub struct Shed {
    /// The listener's `max_connections`, for the answer's detail.
    pub served: usize,
}

/// The middleware half: every answer on a shed connection closes it.
pub async fn close_shed_connections(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let shed = req.conn_data::<Shed>().is_some();
    let mut response = next.call(req).await?;
    if shed {
        close_after(response.response_mut());
    }
    Ok(response)
}

/// Has the connection closed once `response` is sent (actix writes `Connection: close` from
/// this, and ignores a `Connection` header set by hand).
pub fn close_after<B>(response: &mut HttpResponse<B>) {
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(connections: &ServedConnections) -> Extensions {
        let mut extensions = Extensions::new();
        connections.admit(&mut extensions);
        extensions
    }

    #[test]
    fn connections_beyond_the_limit_are_shed_until_a_served_one_closes() {
        let connections = ServedConnections::new(2);
        let first = admitted(&connections);
        let second = admitted(&connections);
        let third = admitted(&connections);
        assert!(first.get::<ServedSlot>().is_some());
        assert!(second.get::<ServedSlot>().is_some());
        assert!(third.get::<ServedSlot>().is_none());
        assert_eq!(third.get::<Shed>().map(|shed| shed.served), Some(2));

        drop(first);
        let fourth = admitted(&connections);
        assert!(
            fourth.get::<ServedSlot>().is_some(),
            "a closed one's slot is free again"
        );
        assert!(admitted(&connections).get::<Shed>().is_some());
    }

    #[test]
    fn a_shed_connection_closing_frees_no_served_slot() {
        let connections = ServedConnections::new(1);
        let _served = admitted(&connections);
        drop(admitted(&connections));
        assert!(admitted(&connections).get::<Shed>().is_some());
    }

    #[test]
    fn as_many_connections_again_are_accepted_to_be_shed() {
        assert_eq!(ServedConnections::new(512).accepted_at_once(), 1024);
        assert_eq!(ServedConnections::new(0).accepted_at_once(), 2);
    }
}
