//! `hookgate events tail`: which events of a poll are new.
//!
//! Polling "newer than the newest id seen" would lose events: ids and `received_at` come from
//! the clocks of the ingest processes, and an event can commit a moment after a newer one was
//! already listed. So each poll asks again for a window before the newest time seen and
//! prints only the ids it has not printed, remembering ids only as long as the window.
//! Times come from the server's answers alone, so the local clock does not matter.

use crate::admin::EventQuery;
use crate::store::EventSummary;
use std::collections::HashMap;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How late, after a newer event was listed, an event can still commit and be printed.
pub const LATE_ARRIVAL_WINDOW: Duration = Duration::seconds(10);

/// What has been seen so far.
#[derive(Debug, Default)]
pub struct NewEvents {
    seen: HashMap<Uuid, OffsetDateTime>,
    /// The newest `received_at` seen.
    newest: Option<OffsetDateTime>,
}

impl NewEvents {
    /// Starts at `newest`, the time of the newest event when the tail starts; the caller
    /// absorbs the first poll (its window) without printing it, as it is not new.
    pub fn after(newest: Option<OffsetDateTime>) -> NewEvents {
        NewEvents {
            seen: HashMap::new(),
            newest,
        }
    }

    /// The search for the next poll: the user's filters, from the start of the window (or
    /// the user's `since`, whichever is later), with no cursor yet.
    pub fn query(&self, filters: &EventQuery) -> EventQuery {
        let window_start = self.newest.map(|newest| newest - LATE_ARRIVAL_WINDOW);
        EventQuery {
            since: filters.since.max(window_start),
            cursor: None,
            ..filters.clone()
        }
    }

    /// The events of a poll not seen before, oldest first; remembers them.
    pub fn absorb(&mut self, events: Vec<EventSummary>) -> Vec<EventSummary> {
        let mut new: Vec<EventSummary> = events
            .into_iter()
            .filter(|event| !self.seen.contains_key(&event.id))
            .collect();
        new.sort_by_key(|event| (event.received_at, event.id));
        new.dedup_by_key(|event| event.id);
        for event in &new {
            self.seen.insert(event.id, event.received_at);
            self.newest = self.newest.max(Some(event.received_at));
        }
        if let Some(newest) = self.newest {
            let window_start = newest - LATE_ARRIVAL_WINDOW;
            self.seen
                .retain(|_, received_at| *received_at >= window_start);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use time::macros::datetime;

    fn event(id: u128, seconds: i64) -> EventSummary {
        EventSummary {
            id: Uuid::from_u128(id),
            source: "stripe".into(),
            event_id: format!("evt_{id}"),
            event_type: None,
            received_at: datetime!(2025-06-01 12:00:00 UTC) + Duration::seconds(seconds),
            content_type: None,
            size: 0,
            deliveries: BTreeMap::new(),
        }
    }

    fn ids(events: &[EventSummary]) -> Vec<u128> {
        events.iter().map(|e| e.id.as_u128()).collect()
    }

    #[test]
    fn only_unseen_events_are_new_oldest_first_even_when_they_commit_late() {
        let mut tail = NewEvents::after(None);
        assert_eq!(ids(&tail.absorb(vec![event(2, 2), event(1, 1)])), [1, 2]);
        // Event 3, received before 2, commits after the previous poll.
        assert_eq!(
            ids(&tail.absorb(vec![event(4, 4), event(2, 2), event(3, 1)])),
            [3, 4]
        );
        assert!(tail.absorb(vec![event(4, 4), event(3, 1)]).is_empty());
    }

    #[test]
    fn the_next_poll_asks_from_the_window_before_the_newest_and_keeps_the_filters() {
        let filters = EventQuery {
            source: Some("stripe".into()),
            cursor: Some("old".into()),
            ..EventQuery::default()
        };
        let mut tail = NewEvents::after(None);
        assert_eq!(tail.query(&filters).since, None);
        tail.absorb(vec![event(1, 30)]);
        let next = tail.query(&filters);
        assert_eq!(next.since, Some(event(1, 20).received_at));
        assert_eq!(next.source.as_deref(), Some("stripe"));
        assert_eq!(next.cursor, None);
        let later_since = EventQuery {
            since: Some(event(1, 25).received_at),
            ..filters
        };
        assert_eq!(tail.query(&later_since).since, later_since.since);
    }

    #[test]
    fn ids_are_forgotten_once_out_of_the_window() {
        let mut tail = NewEvents::after(None);
        tail.absorb(vec![event(1, 0)]);
        tail.absorb(vec![event(2, 60)]);
        assert!(!tail.seen.contains_key(&Uuid::from_u128(1)));
        assert!(tail.seen.contains_key(&Uuid::from_u128(2)));
    }
}
