//! Ids of the deliveries ingest creates: their event id's first 10 bytes, the delivery's place
//! among its event's (2 bytes), then 4 random ones.
//!
//! So an event's deliveries lie in one range of the deliveries' primary key, and no other
//! index needs an entry per delivery to find them (migration 0016 says what that saves). The
//! 10 bytes hold the event's millisecond, the version and variant and 26 random bits: the id
//! is still a UUIDv7 of the millisecond its event was received in, the one it is created in,
//! which the stats rollup and bulk replays rely on, and an event's deliveries sort in the order
//! they were made, as ids drawn one after another did. Two events share the prefix about once
//! in 2^26 pairs received in the same millisecond; a reader filters by `event_id` as well, and
//! the prefix, place and random bits together keep ids unique.

use uuid::Uuid;

/// How many leading bytes a delivery's id shares with its event's.
const PREFIX_BYTES: usize = 10;

/// A new id for the `nth` delivery (from 0) of the event `event`, created with it.
pub fn delivery_id_for(event: Uuid, nth: u16) -> Uuid {
    let mut bytes = *Uuid::new_v4().as_bytes();
    bytes[..PREFIX_BYTES].copy_from_slice(&event.as_bytes()[..PREFIX_BYTES]);
    bytes[PREFIX_BYTES..PREFIX_BYTES + 2].copy_from_slice(&nth.to_be_bytes());
    Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_id_starts_with_its_events_and_is_a_uuid_v7_of_its_time() {
        let event = Uuid::now_v7();
        let delivery = delivery_id_for(event, 0);
        assert_eq!(delivery.as_bytes()[..10], event.as_bytes()[..10]);
        assert_eq!(delivery.get_version_num(), 7);
        assert_eq!(delivery.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(delivery.get_timestamp(), event.get_timestamp());
    }

    #[test]
    fn deliveries_of_one_event_sort_in_the_order_they_were_made() {
        let event = Uuid::now_v7();
        let ids: Vec<Uuid> = (0..1000).map(|nth| delivery_id_for(event, nth)).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(!ids.contains(&event));
    }

    #[test]
    fn the_same_place_gets_a_new_id_each_time() {
        let event = Uuid::now_v7();
        let ids: std::collections::HashSet<Uuid> =
            (0..1000).map(|_| delivery_id_for(event, 0)).collect();
        assert_eq!(ids.len(), 1000);
    }
}
