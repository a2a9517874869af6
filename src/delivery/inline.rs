//! Straight from ingest to a local worker. When this process both ingests and delivers, a
//! delivery whose destination's worker here has room is written already claimed (in flight,
//! first attempt, leased) in the event's own commit and handed over in memory: it is never
//! claimed from the table and its body is never read back. Everything else (no room, circuit
//! open, rate-limited destination, retries, other processes) goes through the table as before.
//!
//! Nothing is lost on the way: a hand-over that never happens (the process died, the worker
//! could not start it in time) leaves a leased row, which the lease reclaimer makes pending again.

use crate::store::{ClaimedDelivery, InsertOutcome, NewEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, OwnedPermit};
use uuid::Uuid;

/// Most bytes of bodies waiting in a lane's [`LaneRoom::while_light`] room: a count alone would
/// let it hold that many times `max_body_bytes`. Past this, deliveries go through the table.
const LANE_BODY_BYTES: usize = 32 * 1024 * 1024;

/// How many deliveries one lane holds.
#[derive(Debug, Clone, Copy)]
pub struct LaneRoom {
    /// Held whatever their bodies weigh.
    pub always: usize,
    /// Held besides while their bodies weigh less than [`LANE_BODY_BYTES`] together.
    pub while_light: usize,
}

/// A delivery handed over in memory, and when its lease runs out.
#[derive(Debug)]
pub struct InlineDelivery {
    pub delivery: ClaimedDelivery,
    pub lease_ends: Instant,
    /// Its body's place in the lane's byte count, given back once the worker has taken it.
    _body: LaneBytes,
}

/// A body's bytes counted against its lane's [`LANE_BODY_BYTES`], from its reservation until
/// the delivery has left the lane (or was never handed over); none in the `always` room.
#[derive(Debug)]
struct LaneBytes {
    held: Arc<AtomicUsize>,
    bytes: usize,
}

impl LaneBytes {
    /// Counts `bytes` against `held` if they fit under [`LANE_BODY_BYTES`].
    fn reserve(held: &Arc<AtomicUsize>, bytes: usize) -> Option<LaneBytes> {
        held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
            (now + bytes <= LANE_BODY_BYTES).then_some(now + bytes)
        })
        .ok()?;
        Some(LaneBytes {
            held: held.clone(),
            bytes,
        })
    }
}

impl Drop for LaneBytes {
    fn drop(&mut self) {
        self.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// The ingest side: one bounded hand-over lane per local destination worker.
#[derive(Default)]
pub struct InlineDispatch {
    lanes: HashMap<String, LaneSender>,
}

struct LaneSender {
    sender: mpsc::Sender<InlineDelivery>,
    open: Arc<AtomicBool>,
    /// Deliveries it holds whatever their bodies weigh.
    always: usize,
    /// Bytes of the bodies reserved or waiting in the lane beyond `always`.
    body_bytes: Arc<AtomicUsize>,
    lease: Duration,
    /// Its worker transforms, and a transform reads the event's headers.
    with_headers: bool,
}

/// The worker side of one lane.
pub struct InlineLane {
    receiver: mpsc::Receiver<InlineDelivery>,
    open: Arc<AtomicBool>,
}

impl LaneSender {
    /// The place in the lane's byte count of a delivery whose body weighs `bytes`: nothing
    /// while the `always` room has space, else its bytes if they still fit.
    fn body_place(&self, bytes: usize) -> Option<LaneBytes> {
        let waiting = self.sender.max_capacity() - self.sender.capacity();
        let counted = if waiting < self.always { 0 } else { bytes };
        LaneBytes::reserve(&self.body_bytes, counted)
    }
}

impl InlineDispatch {
    /// Adds the lane of `destination`'s worker: at most `room` deliveries wait in it, each
    /// leased for `lease` (long enough to wait behind the worker's attempts, then make its own);
    /// `with_headers`: its deliveries carry the event's headers (the worker transforms).
    pub fn add_lane(
        &mut self,
        destination: &str,
        room: LaneRoom,
        lease: Duration,
        with_headers: bool,
    ) -> InlineLane {
        let (sender, receiver) = mpsc::channel((room.always + room.while_light).max(1));
        let open = Arc::new(AtomicBool::new(false));
        self.lanes.insert(
            destination.to_owned(),
            LaneSender {
                sender,
                open: open.clone(),
                always: room.always,
                body_bytes: Arc::default(),
                lease,
                with_headers,
            },
        );
        InlineLane { receiver, open }
    }

    /// Reserves a place in its worker's lane for each delivery of `event` that can take one
    /// now, and marks those deliveries to be written leased.
    pub fn reserve(&self, event: &mut NewEvent) -> Handover {
        let reserved_at = Instant::now();
        let reservations: Vec<Reservation> = event
            .deliveries
            .iter_mut()
            // An ordered delivery waits its turn behind its key's head: only the claim knows.
            .filter(|delivery| delivery.ordering_key.is_none())
            .filter_map(|delivery| {
                let lane = self.lanes.get(&*delivery.destination_id)?;
                if !lane.open.load(Ordering::Relaxed) {
                    return None;
                }
                let body = lane.body_place(event.body.len())?;
                let permit = lane.sender.clone().try_reserve_owned().ok()?;
                delivery.lease = Some(lane.lease);
                Some(Reservation {
                    permit,
                    body,
                    delivery_id: delivery.id,
                    destination_id: delivery.destination_id.to_string(),
                    lease_ends: reserved_at + lane.lease,
                    with_headers: lane.with_headers,
                })
            })
            .collect();
        let template = (!reservations.is_empty()).then(|| ClaimedDelivery {
            id: Uuid::nil(),
            event_id: event.id,
            destination_id: String::new(),
            attempt: 1,
            source_id: event.source_id.to_string(),
            provider_event_id: event.event_id.clone(),
            event_type: event.event_type.clone(),
            content_type: event.content_type.clone(),
            body: event.body.clone(),
            received_at: event.received_at,
            headers_json: None,
            lease_token: None,
        });
        let headers_json = reservations
            .iter()
            .any(|reservation| reservation.with_headers)
            .then(|| event.headers_json.clone());
        Handover {
            reservations,
            template,
            headers_json,
        }
    }
}

/// One reserved place, for one delivery of an event being committed.
struct Reservation {
    permit: OwnedPermit<InlineDelivery>,
    body: LaneBytes,
    delivery_id: Uuid,
    destination_id: String,
    lease_ends: Instant,
    with_headers: bool,
}

/// The deliveries of one event reserved for local workers, handed over once the commit says
/// the event was stored.
pub struct Handover {
    reservations: Vec<Reservation>,
    template: Option<ClaimedDelivery>,
    /// The event's headers, only when a reserved lane's worker transforms.
    headers_json: Option<String>,
}

impl Handover {
    /// Hands the reserved deliveries over if `outcome` stored the event they belong to (a
    /// duplicate wrote none of them); otherwise gives the places back.
    pub fn complete(self, outcome: InsertOutcome) {
        let Some(template) = self.template else {
            return;
        };
        if outcome != InsertOutcome::Accepted(template.event_id) {
            return;
        }
        for reservation in self.reservations {
            reservation.permit.send(InlineDelivery {
                delivery: ClaimedDelivery {
                    id: reservation.delivery_id,
                    destination_id: reservation.destination_id,
                    headers_json: self
                        .headers_json
                        .as_ref()
                        .filter(|_| reservation.with_headers)
                        .cloned(),
                    ..template.clone()
                },
                lease_ends: reservation.lease_ends,
                _body: reservation.body,
            });
        }
    }
}

/// How many deliveries a commit of `events` (answered `outcomes`) left pending in the table for
/// a worker to claim: those of the events it stored that were not reserved for a local worker.
pub fn left_pending(events: &[NewEvent], outcomes: &[InsertOutcome]) -> usize {
    events
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| matches!(outcome, InsertOutcome::Accepted(_)))
        .flat_map(|(event, _)| &event.deliveries)
        .filter(|delivery| delivery.lease.is_none())
        .count()
}

impl InlineLane {
    /// Whether ingest may hand deliveries over now (the worker's circuit is closed).
    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::Relaxed);
    }

    /// A delivery waiting in the lane, if any.
    pub fn try_next(&mut self) -> Option<InlineDelivery> {
        self.receiver.try_recv().ok()
    }

    /// Waits for the next delivery; `None` once ingest has stopped for good.
    pub async fn next(&mut self) -> Option<InlineDelivery> {
        self.receiver.recv().await
    }

    /// Stops taking deliveries and answers those still waiting.
    pub fn close(&mut self) -> Vec<InlineDelivery> {
        self.set_open(false);
        self.receiver.close();
        std::iter::from_fn(|| self.receiver.try_recv().ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewDelivery;
    use bytes::Bytes;

    fn event(destinations: &[&str]) -> NewEvent {
        NewEvent {
            id: Uuid::now_v7(),
            source_id: Arc::from("github"),
            event_id: "evt_1".into(),
            event_type: Some("push".into()),
            received_at: time::OffsetDateTime::now_utc(),
            content_type: Some("application/json".into()),
            headers_json: "{}".into(),
            body: Bytes::from_static(b"{}"),
            deliveries: destinations
                .iter()
                .map(|destination| NewDelivery {
                    id: Uuid::now_v7(),
                    destination_id: Arc::from(*destination),
                    lease: None,
                    ordering_key: None,
                })
                .collect(),
            filtered: Vec::new(),
        }
    }

    const LEASE: Duration = Duration::from_secs(15);

    /// Room for `always` deliveries whatever their bodies weigh, and no more.
    fn room(always: usize) -> LaneRoom {
        LaneRoom {
            always,
            while_light: 0,
        }
    }

    /// A dispatch with one open lane, to "billing", of `room`.
    fn billing_lane(room: LaneRoom) -> (InlineDispatch, InlineLane) {
        let mut dispatch = InlineDispatch::default();
        let lane = dispatch.add_lane("billing", room, LEASE, false);
        lane.set_open(true);
        (dispatch, lane)
    }

    #[test]
    fn only_open_lanes_with_room_take_deliveries_and_only_those_are_leased() {
        let mut dispatch = InlineDispatch::default();
        let mut billing = dispatch.add_lane("billing", room(1), LEASE, true);
        let ledger = dispatch.add_lane("ledger", room(1), LEASE, false);
        billing.set_open(true);
        ledger.set_open(false);

        let mut first = event(&["billing", "ledger", "elsewhere"]);
        let handover = dispatch.reserve(&mut first);
        let leases: Vec<_> = first.deliveries.iter().map(|d| d.lease).collect();
        assert_eq!(leases, vec![Some(LEASE), None, None]);

        let mut second = event(&["billing"]);
        let _no_room = dispatch.reserve(&mut second);
        assert_eq!(second.deliveries[0].lease, None, "the lane is full");

        handover.complete(InsertOutcome::Accepted(first.id));
        let handed = billing.try_next().expect("handed over");
        assert_eq!(handed.delivery.id, first.deliveries[0].id);
        assert_eq!(handed.delivery.event_id, first.id);
        assert_eq!(handed.delivery.destination_id, "billing");
        assert_eq!(handed.delivery.attempt, 1);
        assert_eq!(handed.delivery.body, first.body);
        // Its worker transforms: the event's headers come along.
        assert_eq!(handed.delivery.headers_json.as_deref(), Some("{}"));
    }

    #[test]
    fn only_stored_deliveries_not_handed_over_are_left_for_a_claim() {
        let (dispatch, _lane) = billing_lane(room(4));
        let mut stored = event(&["billing", "ledger", "elsewhere"]);
        let mut all_inline = event(&["billing"]);
        let mut duplicate = event(&["ledger"]);
        for event in [&mut stored, &mut all_inline, &mut duplicate] {
            let _handover = dispatch.reserve(event);
        }
        let outcomes = [
            InsertOutcome::Accepted(stored.id),
            InsertOutcome::Accepted(all_inline.id),
            InsertOutcome::Duplicate(Uuid::now_v7()),
        ];
        let events = [stored, all_inline, duplicate];
        assert_eq!(left_pending(&events, &outcomes), 2);
        assert_eq!(left_pending(&events[1..], &outcomes[1..]), 0);
    }

    #[test]
    fn a_duplicate_hands_nothing_over_and_frees_its_places() {
        let (dispatch, mut lane) = billing_lane(room(1));
        let mut duplicate = event(&["billing"]);
        dispatch
            .reserve(&mut duplicate)
            .complete(InsertOutcome::Duplicate(Uuid::now_v7()));
        assert!(lane.try_next().is_none());

        let mut next = event(&["billing"]);
        let handover = dispatch.reserve(&mut next);
        assert_eq!(next.deliveries[0].lease, Some(LEASE), "the place was freed");
        handover.complete(InsertOutcome::Accepted(next.id));
        let handed = lane.try_next().expect("handed over");
        assert_eq!(
            handed.delivery.headers_json, None,
            "no transform, no headers"
        );
    }

    #[test]
    fn beyond_the_always_room_bodies_count_until_the_worker_takes_them() {
        let (dispatch, mut lane) = billing_lane(LaneRoom {
            always: 1,
            while_light: 8,
        });
        let with_body = |bytes: usize| NewEvent {
            body: Bytes::from(vec![b'x'; bytes]),
            ..event(&["billing"])
        };
        let handed = |event: &mut NewEvent| {
            let handover = dispatch.reserve(event);
            let leased = event.deliveries[0].lease.is_some();
            handover.complete(InsertOutcome::Accepted(event.id));
            leased
        };
        assert!(handed(&mut with_body(10)), "the always room");
        assert!(handed(&mut with_body(LANE_BODY_BYTES - 10)), "light enough");
        let mut small = with_body(20);
        let _no_room = dispatch.reserve(&mut small);
        assert_eq!(small.deliveries[0].lease, None, "the bytes are spent");

        let mut duplicate = with_body(10);
        dispatch
            .reserve(&mut duplicate)
            .complete(InsertOutcome::Duplicate(Uuid::now_v7()));
        let mut fits = with_body(10);
        let reserved = dispatch.reserve(&mut fits);
        assert_eq!(
            fits.deliveries[0].lease,
            Some(LEASE),
            "a duplicate gave its bytes back"
        );
        drop(reserved);

        drop(lane.try_next().expect("the first waits"));
        drop(lane.try_next().expect("the large one waits"));
        assert!(handed(&mut with_body(10)), "the always room again");
        assert!(
            handed(&mut with_body(20)),
            "the large one taken: its bytes free"
        );
    }

    #[test]
    fn closing_a_lane_returns_what_waits_in_it() {
        let (dispatch, mut lane) = billing_lane(room(2));
        let mut stored = event(&["billing"]);
        dispatch
            .reserve(&mut stored)
            .complete(InsertOutcome::Accepted(stored.id));
        let waiting = lane.close();
        assert_eq!(waiting.len(), 1);
        let mut later = event(&["billing"]);
        dispatch.reserve(&mut later);
        assert_eq!(
            later.deliveries[0].lease, None,
            "a closed lane takes nothing"
        );
    }
}
