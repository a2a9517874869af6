//! The partitions of `events`: one per UTC day on the time-ordered id (migration 0013), created
//! ahead of time and dropped whole by retention once the day has expired.
//!
//! A partition's name says which ids it holds, so its bounds are read from the name rather
//! than parsed out of the catalogue's bound expressions:
//! `events_YYYYMMDD` holds the ids of that day, `events_upto_YYYYMMDD` (an upgraded database's
//! table from before partitioning) every id before that day, and `events_default` whatever no
//! other partition covers.

use super::id_time::first_id_at;
use super::{Store, StoreError};
use sqlx::{Connection, PgConnection};
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

/// Longest a partition's creation or drop waits for the lock on `events`: both need it
/// exclusively for a moment, and while they wait every insert queues behind them (a long
/// admin query holding the table would otherwise stall ingest until it ends). One that times
/// out is retried on the next pass: creation hourly, days ahead of need; drops every 10 min.
const LOCK_TIMEOUT: &str = "100ms";

const LIST_PARTITIONS: &str = r#"
SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass
"#;

/// One batch of an expired partition's clearing: of its next `$3` events by id (after `$1`,
/// before `$2`), those whose deliveries are all final (or that have none) lose their
/// deliveries, the attempt rows and their keys. The others, with a delivery still pending, in
/// flight or dead, are the partition's stragglers and keep everything. Answers the batch's last
/// id (none once the partition has been read to its end) and its size.
const CLEAR_EXPIRED_BATCH: &str = concat!(
    r#"
WITH batch AS (
    SELECT e.id, e.source_id, e.event_id FROM events e
    WHERE e.id > $1 AND e.id < $2
    ORDER BY e.id
    LIMIT $3
), done AS (
    SELECT e.* FROM batch e WHERE "#,
    all_deliveries_final!(),
    ")",
    delete_what_done_events_hold!(),
    "SELECT (SELECT id FROM batch ORDER BY id DESC LIMIT 1), (SELECT count(*) FROM batch)"
);

/// The events of a partition's range (`$1` to `$2`) that still have a delivery: after the
/// clearing, its stragglers. A list of ids, probed one by one in the partition, rather than a
/// join the planner may turn into a merge over the whole partition (its statistics still
/// count the deliveries the clearing deleted). The deliveries ingest created have ids in the
/// same range as their events (see `deliveries_of_event!`); the others are in the partial
/// `deliveries_event`.
const STRAGGLER_IDS: &str = "SELECT DISTINCT d.event_id FROM deliveries d \
     WHERE d.event_id >= $1 AND d.event_id < $2 \
       AND (d.id >= $1 AND d.id < $2 OR NOT hookgate_delivery_id_from_event(d.id, d.event_id))";

/// Which ids a partition of `events` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPartition {
    pub name: String,
    pub holds: PartitionRange,
}

/// The ids of a partition, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionRange {
    /// The ids of one UTC day.
    Day(Date),
    /// Every id before the start of this day: the table an upgraded database had.
    Before(Date),
    /// Whatever no other partition holds.
    Default,
}

impl EventPartition {
    /// Reads a partition's range from its name; `None` for a name hookgate does not make.
    pub fn from_name(name: &str) -> Option<EventPartition> {
        let day =
            |digits: &str| Date::parse(digits, format_description!("[year][month][day]")).ok();
        let holds = if name == "events_default" {
            PartitionRange::Default
        } else if let Some(digits) = name.strip_prefix("events_upto_") {
            PartitionRange::Before(day(digits)?)
        } else {
            PartitionRange::Day(day(name.strip_prefix("events_")?)?)
        };
        Some(EventPartition {
            name: name.to_owned(),
            holds,
        })
    }

    /// The first id after the partition's range; `None` for the default partition.
    pub fn end(&self) -> Option<Uuid> {
        match self.holds {
            PartitionRange::Day(day) => day.next_day().map(start_of),
            PartitionRange::Before(day) => Some(start_of(day)),
            PartitionRange::Default => None,
        }
    }

    /// The partition's first id: the nil id where it starts from the beginning of time, and
    /// `None` for the default partition.
    pub fn start(&self) -> Option<Uuid> {
        match self.holds {
            PartitionRange::Day(day) => Some(start_of(day)),
            PartitionRange::Before(_) => Some(Uuid::nil()),
            PartitionRange::Default => None,
        }
    }
}

/// The first id of a UTC day.
fn start_of(day: Date) -> Uuid {
    first_id_at(day.with_time(Time::MIDNIGHT).assume_utc())
}

/// The days from `from` on, `count` of them, that need a partition: those without one, from
/// the end of an upgraded database's table on (the days before it are in that table).
pub fn days_to_create(partitions: &[EventPartition], from: Date, count: u32) -> Vec<Date> {
    let upgraded_until = partitions.iter().find_map(|p| match p.holds {
        PartitionRange::Before(day) => Some(day),
        _ => None,
    });
    let mut days = Vec::new();
    let mut day = upgraded_until.map_or(from, |until| from.max(until));
    let last = from.saturating_add(time::Duration::days(i64::from(count)));
    while day < last {
        if !partitions
            .iter()
            .any(|p| p.holds == PartitionRange::Day(day))
        {
            days.push(day);
        }
        let Some(next) = day.next_day() else { break };
        day = next;
    }
    days
}

/// A partition whose every id is older than retention's cutoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredPartition {
    pub name: String,
    /// Its first id (the nil id for an upgraded database's table).
    pub start: Uuid,
    /// The first id after it.
    pub end: Uuid,
}

/// Partitions whose every id is older than `cutoff`, oldest first: retention drops them.
pub fn expired(partitions: &[EventPartition], cutoff: OffsetDateTime) -> Vec<ExpiredPartition> {
    let cutoff = first_id_at(cutoff);
    let mut expired: Vec<ExpiredPartition> = partitions
        .iter()
        .filter_map(|p| {
            Some(ExpiredPartition {
                name: p.name.clone(),
                start: p.start()?,
                end: p.end()?,
            })
        })
        .filter(|p| p.end <= cutoff)
        .collect();
    expired.sort_by_key(|p| p.end);
    expired
}

/// The first id of the oldest day partition: ids before it are in the default partition or an
/// upgraded database's table, whose expired rows retention deletes one by one.
pub fn first_day_partition_start(partitions: &[EventPartition]) -> Option<Uuid> {
    partitions
        .iter()
        .filter(|p| matches!(p.holds, PartitionRange::Day(_)))
        .filter_map(EventPartition::start)
        .min()
}

/// What clearing a batch of an expired partition read.
#[derive(Debug, Clone, Copy)]
pub struct ClearedBatch {
    /// The batch's last id: the next batch starts after it; `None` once the partition is read.
    pub last: Option<Uuid>,
    /// Events the batch read.
    pub events: i64,
}

/// A transaction that gives up on any lock it cannot take within [`LOCK_TIMEOUT`].
async fn begin_with_lock_timeout(
    conn: &mut PgConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

impl Store {
    /// The partitions of `events`, with the ranges their names say (names hookgate does not
    /// make are left out).
    pub async fn event_partitions(&self) -> Result<Vec<EventPartition>, StoreError> {
        let names: Vec<String> = sqlx::query_scalar(LIST_PARTITIONS)
            .fetch_all(&self.pool)
            .await?;
        Ok(names
            .iter()
            .filter_map(|name| EventPartition::from_name(name))
            .collect())
    }

    /// Creates the partition for the UTC day `day` unless it exists; answers its name.
    pub async fn create_event_partition(&self, day: Date) -> Result<String, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = begin_with_lock_timeout(&mut conn).await?;
        let name: String = sqlx::query_scalar("SELECT hookgate_create_event_partition($1)")
            .bind(day)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(name)
    }

    /// Clears the next `limit` events of an expired partition after `after` (see
    /// [`CLEAR_EXPIRED_BATCH`]); the partition's rows themselves stay until it is dropped.
    pub async fn clear_expired_batch(
        &self,
        partition: &ExpiredPartition,
        after: Uuid,
        limit: i64,
    ) -> Result<ClearedBatch, StoreError> {
        let (last, events): (Option<Uuid>, i64) = sqlx::query_as(CLEAR_EXPIRED_BATCH)
            .bind(after)
            .bind(partition.end)
            .bind(limit)
            .fetch_one(&self.pool)
            .await?;
        Ok(ClearedBatch { last, events })
    }

    /// Drops a cleared, expired partition, first moving its stragglers (events that still have
    /// a delivery: not final, or added since it was cleared) with their keys into the default
    /// partition, where retention deletes them one by one once they are done. Answers how
    /// many moved. One short transaction, since it holds `events` exclusively: the stragglers
    /// are found through the deliveries' indexes and fetched from the partition by primary key,
    /// never by reading the whole partition.
    pub async fn drop_expired_partition(
        &self,
        partition: &ExpiredPartition,
    ) -> Result<u64, StoreError> {
        let straggler_ids = || {
            sqlx::query_scalar::<_, Uuid>(STRAGGLER_IDS)
                .bind(partition.start)
                .bind(partition.end)
        };
        // The same scan once before the lock: the index entries of the deliveries the
        // clearing deleted are then marked dead, and the scan under the lock skips them
        // instead of visiting a day's worth of deleted rows.
        straggler_ids().fetch_all(&self.pool).await?;

        // Names come from the catalogue and matched hookgate's own pattern (digits only).
        let name = &partition.name;
        let mut conn = self.pool.acquire().await?;
        let mut tx = begin_with_lock_timeout(&mut conn).await?;
        sqlx::query(&format!("ALTER TABLE events DETACH PARTITION {name}"))
            .execute(&mut *tx)
            .await?;
        let stragglers = straggler_ids().fetch_all(&mut *tx).await?;
        let moved = sqlx::query(&format!(
            "INSERT INTO events SELECT * FROM {name} WHERE id = ANY($1)"
        ))
        .bind(&stragglers)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(&format!(
            "INSERT INTO event_keys (source_id, event_id, event) \
             SELECT source_id, event_id, id FROM {name} WHERE id = ANY($1) \
             ON CONFLICT (source_id, event_id) DO NOTHING"
        ))
        .bind(&stragglers)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!("DROP TABLE {name}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn partitions(names: &[&str]) -> Vec<EventPartition> {
        names
            .iter()
            .map(|name| EventPartition::from_name(name).unwrap())
            .collect()
    }

    #[test]
    fn names_say_which_ids_a_partition_holds() {
        let [day, upto, default] = <[EventPartition; 3]>::try_from(partitions(&[
            "events_20261205",
            "events_upto_20261130",
            "events_default",
        ]))
        .unwrap();
        assert_eq!(day.holds, PartitionRange::Day(date!(2026 - 12 - 05)));
        assert_eq!(
            day.start(),
            Some(first_id_at(datetime!(2026-12-05 0:00 UTC)))
        );
        assert_eq!(day.end(), Some(first_id_at(datetime!(2026-12-06 0:00 UTC))));
        assert_eq!(upto.start(), Some(Uuid::nil()));
        assert_eq!(
            upto.end(),
            Some(first_id_at(datetime!(2026-11-30 0:00 UTC)))
        );
        assert_eq!((default.start(), default.end()), (None, None));
        for foreign in [
            "events_archive",
            "events_2026",
            "events_upto_x",
            "other_20261205",
        ] {
            assert_eq!(EventPartition::from_name(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn missing_days_are_created_from_the_end_of_an_upgraded_table_on() {
        let existing = partitions(&["events_default", "events_20261206"]);
        assert_eq!(
            days_to_create(&existing, date!(2026 - 12 - 05), 3),
            [date!(2026 - 12 - 05), date!(2026 - 12 - 07)]
        );
        let upgraded = partitions(&["events_default", "events_upto_20261206"]);
        assert_eq!(
            days_to_create(&upgraded, date!(2026 - 12 - 05), 3),
            [date!(2026 - 12 - 06), date!(2026 - 12 - 07)]
        );
    }

    #[test]
    fn only_partitions_wholly_before_the_cutoff_expire_oldest_first() {
        let existing = partitions(&[
            "events_20261103",
            "events_default",
            "events_20261102",
            "events_upto_20261101",
            "events_20261104",
        ]);
        let expired = expired(&existing, datetime!(2026-11-04 12:00 UTC));
        let names: Vec<&str> = expired.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["events_upto_20261101", "events_20261102", "events_20261103"]
        );
        assert_eq!(expired[0].start, Uuid::nil());
        assert_eq!(expired[2].end, first_id_at(datetime!(2026-11-04 0:00 UTC)));
        assert_eq!(
            first_day_partition_start(&existing),
            Some(first_id_at(datetime!(2026-11-02 0:00 UTC)))
        );
    }
}
