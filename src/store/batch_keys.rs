//! Which events of a commit batch are written and how every event of it is answered, when
//! several requests in one batch carry the same `(source_id, event_id)`.
//!
//! Found by sorting the batch's positions by key rather than hashing the keys: the written
//! events must be in key order anyway (concurrent batches take the unique index's locks in
//! one order), and a SipHash of two strings per event, three times over, was 1 % of the
//! ingest role's CPU.

use super::events::{InsertOutcome, NewEvent};

/// A batch's events grouped by key.
#[derive(Debug)]
pub(super) struct BatchKeys {
    /// Positions in the batch of the events to write, one per key (the first in the batch),
    /// in key order.
    written: Vec<usize>,
    /// For each event of the batch, the index in `written` of the event written for its key.
    group: Vec<usize>,
}

impl BatchKeys {
    pub(super) fn of(batch: &[NewEvent]) -> BatchKeys {
        let mut order: Vec<usize> = (0..batch.len()).collect();
        // Ties in batch order, so each group starts with the first of its key in the batch.
        order.sort_unstable_by(|&a, &b| key(&batch[a]).cmp(&key(&batch[b])).then(a.cmp(&b)));
        let mut written = Vec::with_capacity(batch.len());
        let mut group = vec![0; batch.len()];
        for same_key in order.chunk_by(|&a, &b| key(&batch[a]) == key(&batch[b])) {
            for &position in same_key {
                group[position] = written.len();
            }
            written.push(same_key[0]);
        }
        BatchKeys { written, group }
    }

    /// The events to write, one per key, in key order.
    pub(super) fn written<'b>(&self, batch: &'b [NewEvent]) -> Vec<&'b NewEvent> {
        self.written
            .iter()
            .map(|&position| &batch[position])
            .collect()
    }

    /// Every event's answer, given the outcome of each written event (in the order of
    /// [`BatchKeys::written`]): a later event with the same key is a duplicate of the first.
    pub(super) fn answers(&self, written_outcomes: &[InsertOutcome]) -> Vec<InsertOutcome> {
        self.group
            .iter()
            .enumerate()
            .map(|(position, &group)| {
                let outcome = written_outcomes[group];
                match outcome {
                    InsertOutcome::Accepted(id) if self.written[group] != position => {
                        InsertOutcome::Duplicate(id)
                    }
                    other => other,
                }
            })
            .collect()
    }
}

fn key(event: &NewEvent) -> (&str, &str) {
    (&event.source_id, &event.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use time::OffsetDateTime;
    use uuid::Uuid;

    fn event(source: &str, event_id: &str) -> NewEvent {
        NewEvent {
            id: Uuid::now_v7(),
            source_id: source.into(),
            event_id: event_id.to_owned(),
            event_type: None,
            received_at: OffsetDateTime::UNIX_EPOCH,
            content_type: None,
            headers_json: "{}".to_owned(),
            body: Bytes::new(),
            deliveries: Vec::new(),
            filtered: Vec::new(),
        }
    }

    fn ids(events: &[&NewEvent]) -> Vec<Uuid> {
        events.iter().map(|event| event.id).collect()
    }

    #[test]
    fn the_first_event_of_each_key_is_written_in_key_order() {
        let batch = [
            event("stripe", "b"),
            event("github", "z"),
            event("stripe", "b"),
            event("stripe", "a"),
            event("github", "z"),
        ];
        let keys = BatchKeys::of(&batch);
        assert_eq!(
            ids(&keys.written(&batch)),
            vec![batch[1].id, batch[3].id, batch[0].id]
        );
    }

    #[test]
    fn later_events_with_a_written_key_are_its_duplicates() {
        let batch = [
            event("stripe", "b"),
            event("stripe", "a"),
            event("stripe", "b"),
        ];
        let keys = BatchKeys::of(&batch);
        let written = keys.written(&batch);
        let (a, b) = (written[0].id, written[1].id);
        let outcomes = [InsertOutcome::Accepted(a), InsertOutcome::Accepted(b)];
        assert_eq!(
            keys.answers(&outcomes),
            vec![
                InsertOutcome::Accepted(b),
                InsertOutcome::Accepted(a),
                InsertOutcome::Duplicate(b),
            ]
        );
    }

    #[test]
    fn a_key_stored_before_the_batch_answers_every_copy_as_a_duplicate() {
        let batch = [event("stripe", "a"), event("stripe", "a")];
        let keys = BatchKeys::of(&batch);
        let stored_earlier = Uuid::now_v7();
        assert_eq!(
            keys.answers(&[InsertOutcome::Duplicate(stored_earlier)]),
            vec![InsertOutcome::Duplicate(stored_earlier); 2]
        );
    }

    #[test]
    fn the_same_event_id_from_two_sources_is_two_events() {
        let batch = [event("stripe", "a"), event("github", "a")];
        let keys = BatchKeys::of(&batch);
        assert_eq!(keys.written(&batch).len(), 2);
        let outcomes: Vec<_> = keys
            .written(&batch)
            .iter()
            .map(|event| InsertOutcome::Accepted(event.id))
            .collect();
        assert_eq!(
            keys.answers(&outcomes),
            vec![
                InsertOutcome::Accepted(batch[0].id),
                InsertOutcome::Accepted(batch[1].id),
            ]
        );
    }
}
