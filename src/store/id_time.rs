//! Time bounds on the time-ordered (UUIDv7) ids of events and deliveries.

use time::OffsetDateTime;
use uuid::Uuid;

/// The smallest UUIDv7 of the millisecond `at` falls in: every id generated at or after
/// `at` compares greater than or equal to it (Postgres orders uuids bytewise).
pub fn first_id_at(at: OffsetDateTime) -> Uuid {
    let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_generated_after_a_time_sort_after_its_first_id() {
        let before = OffsetDateTime::now_utc();
        let id = Uuid::now_v7();
        assert!(first_id_at(before) <= id);
        assert!(first_id_at(before + time::Duration::seconds(1)) > id);
    }

    #[test]
    fn times_before_the_epoch_give_the_nil_id() {
        assert_eq!(
            first_id_at(OffsetDateTime::UNIX_EPOCH - time::Duration::DAY),
            Uuid::nil()
        );
    }
}
