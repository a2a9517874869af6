//! Connections beyond the served ones are answered, at a pace the served ones can afford.
//!
//! The ingest listener serves at most `server.max_connections` connections: each carries a
//! request, and more of them in flight only lengthen every answer (bench/RESULTS.md). The
//! connections beyond them used to wait in the kernel's listen queue, unread, until a served
//! one closed, which under a flood from kept-alive senders was never: they saw connect
//! timeouts after tens of seconds. Now a few more are accepted as *shed* connections: a
//! webhook on one is answered `503` + `Retry-After` (`overloaded`) once its body is read, and
//! every answer on one closes it (`Connection: close`), so the sender meets admission afresh
//! when it comes back.
//!
//! Refusing costs CPU, and a sender that ignores `Retry-After` comes straight back: shed as
//! fast as they came, such senders took four fifths of a CPU-bound server from the served ones
//! (bench/RESULTS.md). So refusals are paced to [`SHEDS_PER_SECOND_PER_CPU`], and at most
//! [`SHED_ROOM_PER_CPU`] shed connections are held at once: beyond them connections wait in
//! the kernel's queue again, costing nothing, and a shed webhook waits at most room / pace
//! (64 ms) and one [`TURN_TICK`] for its turn.
//!
//! An answer always closes a shed connection, because nothing else closes a kept-alive
//! connection without racing its client: a shed connection kept for a second and shut down
//! 50 ms after an answer left it idle (cheaper for senders that come straight back) cut off
//! requests that pooled clients sent on it just as it closed (bench/RESULTS.md).
//!
//! Whether a connection is served or shed is decided once, when it is accepted: a served
//! connection holds its [`ServedSlot`] until it closes.

use crate::problem::close_after;
use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Shed connections held at once, per CPU, beyond the served ones.
pub const SHED_ROOM_PER_CPU: usize = 32;
/// Refusals answered per second, per CPU. A refusal, a new connection's every time, costs
/// hookgate about 90 µs (`bench/refusals`; up to 150 in a slow hour of this machine): at this
/// pace 4.5-7.5 % of a CPU, taken from the webhooks it stores (at 1,000 a second, goodput
/// under a flood fell 5-10 points below a server that refused none, bench/RESULTS.md).
pub const SHEDS_PER_SECOND_PER_CPU: u32 = 500;

/// The ingest listener's connections: how many are served, and the pace of refusals.
#[derive(Clone)]
pub struct ServedConnections {
    limit: usize,
    served: Arc<AtomicUsize>,
    shed_room: usize,
    pace: Arc<Pace>,
}

impl ServedConnections {
    /// Serves at most `limit` connections at once (at least one), and sheds the rest at the
    /// pace `cpus` CPUs afford.
    pub fn new(limit: usize, cpus: usize) -> ServedConnections {
        let cpus = cpus.max(1);
        let per_second =
            SHEDS_PER_SECOND_PER_CPU.saturating_mul(u32::try_from(cpus).unwrap_or(u32::MAX));
        ServedConnections {
            limit: limit.max(1),
            served: Arc::new(AtomicUsize::new(0)),
            shed_room: SHED_ROOM_PER_CPU * cpus,
            pace: Arc::new(Pace::new(Duration::from_secs(1) / per_second)),
        }
    }

    /// Connections the listener holds at once: the served ones and the shed room.
    pub fn accepted_at_once(&self) -> usize {
        self.limit + self.shed_room
    }

    /// The `on_connect` hook: the new connection takes a served slot when one is free, and
    /// is marked shed otherwise; answers whether it is served.
    pub fn admit(&self, extensions: &mut Extensions) -> bool {
        match self.take_slot() {
            Some(slot) => extensions.insert(slot).is_none(),
            None => {
                extensions.insert(Shed {
                    served: self.limit,
                    pace: Arc::clone(&self.pace),
                });
                false
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

/// Marks a connection accepted while every served place was taken.
pub struct Shed {
    /// The listener's `max_connections`, for the answer's detail.
    pub served: usize,
    pace: Arc<Pace>,
}

impl Shed {
    /// Waits for this refusal's turn.
    pub async fn turn(&self) {
        let at = self.pace.reserve(Instant::now());
        tokio::time::sleep_until(at.into()).await;
    }
}

/// Turns are handed out on a grid this coarse: the refusals whose turns fall within one tick
/// are answered together, one wake-up of their worker for all of them. One wake-up per turn
/// (a turn a millisecond) made each refusal cost its worker a sleep and a wake: 77 µs of CPU
/// on a kept connection, about twice what storing a webhook costs hookgate (bench/RESULTS.md).
const TURN_TICK: Duration = Duration::from_millis(16);

/// Hands out turns at most one per `interval` on average, each at the first tick at or after
/// the time it may come.
struct Pace {
    interval: Duration,
    origin: Instant,
    /// Nanoseconds after `origin` before which the next turn may not come.
    next: AtomicU64,
}

impl Pace {
    fn new(interval: Duration) -> Pace {
        Pace {
            interval,
            origin: Instant::now(),
            next: AtomicU64::new(0),
        }
    }

    /// Reserves the first free turn at or after `now`; answers when it comes.
    fn reserve(&self, now: Instant) -> Instant {
        let now_ns = nanos(now.saturating_duration_since(self.origin));
        let interval = nanos(self.interval);
        let previous = self
            .next
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |next| {
                Some(next.max(now_ns) + interval)
            })
            .unwrap_or_else(|next| next);
        let tick = nanos(TURN_TICK);
        self.origin + Duration::from_nanos(previous.max(now_ns).div_ceil(tick) * tick)
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The middleware half: every answer on a shed connection closes it, a webhook's refusal or
/// any other, so a shed connection carries one request and needs no watch between requests
/// (see `next_request`): the first request's head and body have their own deadlines.
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
        let connections = ServedConnections::new(2, 1);
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
        let connections = ServedConnections::new(1, 1);
        let _served = admitted(&connections);
        drop(admitted(&connections));
        assert!(admitted(&connections).get::<Shed>().is_some());
    }

    #[test]
    fn the_shed_room_and_pace_grow_with_the_cpus() {
        assert_eq!(
            ServedConnections::new(1024, 2).accepted_at_once(),
            1024 + 64
        );
        assert_eq!(ServedConnections::new(0, 0).accepted_at_once(), 1 + 32);
        assert_eq!(
            ServedConnections::new(1, 2).pace.interval,
            Duration::from_millis(1)
        );
    }

    #[test]
    fn turns_come_one_interval_apart_on_average_a_tick_at_a_time() {
        let pace = Pace::new(Duration::from_millis(1));
        let tick = TURN_TICK;
        let now = pace.origin + tick * 100 + Duration::from_millis(3);
        let next_tick = pace.origin + tick * 101;
        // The turns of one tick come together at its end, then the next tick's.
        let per_tick = (tick.as_millis() - 3 + 1) as usize;
        for _ in 0..per_tick {
            assert_eq!(pace.reserve(now), next_tick);
        }
        assert_eq!(pace.reserve(now), next_tick + tick);
        // Asked later than the next free turn: no turn banked for a burst.
        let later = pace.origin + tick * 200;
        assert_eq!(pace.reserve(later), later);
        assert_eq!(pace.reserve(later), later + tick);
    }
}
