//! Every SQL statement hookgate runs. Nothing outside this module talks to Postgres.

/// SQL shared by every reader of an event's deliveries: whether the delivery aliased `$d`
/// belongs to the event `$event` (an SQL expression). A delivery created at ingest has an id
/// starting with its event's (see [`delivery_id_for`]) and is found through the primary key's
/// range over that prefix; the others (stored before migration 0016, replays, redeliveries)
/// through the partial index `deliveries_event`. Postgres reads the `OR` as a `BitmapOr` of
/// the two indexes (migrations/0016_deliveries_found_by_event_prefix.sql says why).
#[rustfmt::skip]
macro_rules! deliveries_of_event {
    ($d:literal, $event:literal) => {
        concat!(
            "(", $d, ".event_id = ", $event,
            " AND (", $d, ".id BETWEEN hookgate_first_delivery_of(", $event, ")",
            " AND hookgate_last_delivery_of(", $event, ")",
            " OR NOT hookgate_delivery_id_from_event(", $d, ".id, ", $d, ".event_id)))"
        )
    };
}

/// SQL shared by retention's two ways of purging (src/store/retention.rs, row by row;
/// src/store/partitions.rs, a partition's clearing before its drop): whether every delivery
/// of the event `e` is final. An aggregate per event on purpose: written as `NOT EXISTS`, the
/// planner turned it into a merge anti-join that read the whole `deliveries_event` index for
/// every batch once the tables held millions of rows (2.9 s per batch at 20 million,
/// bench/RESULTS.md), where a probe per candidate event costs microseconds. Events without
/// deliveries (`NULL`) are final too.
macro_rules! all_deliveries_final {
    () => {
        concat!(
            "(SELECT bool_and(d.state IN ('delivered', 'filtered'))
              FROM deliveries d WHERE ",
            deliveries_of_event!("d", "e.id"),
            ") IS NOT FALSE"
        )
    };
}

/// SQL shared by the readers of an event's headers (src/store/event_detail.rs, the claims in
/// src/store/deliveries.rs): the headers of the event `e` as `json`, from `headers`, or from
/// `headers_jsonb` for events stored before migration 0014.
macro_rules! stored_headers {
    () => {
        "COALESCE(e.headers, e.headers_jsonb::json)"
    };
}

/// SQL shared as above: the data-modifying CTEs that delete, for the events of a CTE named
/// `done` (`id`, `source_id`, `event_id`), their deliveries, those deliveries' attempt rows
/// and the events' dedupe keys. Follows a CTE, so it starts with a comma. The deliveries are
/// looked up event by event (a subquery per event) and deleted by primary key: as a join, the
/// planner hashed `done` and read the whole `deliveries` table for it.
macro_rules! delete_what_done_events_hold {
    () => {
        concat!(
            r#"
, done_deliveries AS (
    DELETE FROM deliveries d
    WHERE d.id = ANY(ARRAY(
        SELECT unnest(ARRAY(SELECT x.id FROM deliveries x WHERE "#,
            deliveries_of_event!("x", "done.id"),
            r#"))
        FROM done))
    RETURNING d.id
), done_attempts AS (
    DELETE FROM delivery_attempts a USING done_deliveries dd WHERE a.delivery_id = dd.id
), done_keys AS (
    DELETE FROM event_keys k USING done
    WHERE k.source_id = done.source_id AND k.event_id = done.event_id AND k.event = done.id
)
"#
        )
    };
}

mod activity;
mod batch_keys;
mod console_sessions;
mod dead_letters;
mod deliveries;
mod delivery_ids;
mod delivery_search;
mod delivery_state;
mod event_detail;
mod event_search;
mod events;
mod handshakes;
mod id_time;
mod leases;
pub mod ordering;
mod own_connection;
pub mod partitions;
mod queue_stats;
mod redeliver;
mod replays;
mod retention;
mod stats;

pub use activity::{ActivityRow, LastEvent};
pub use dead_letters::DeadLetterGroup;
pub use deliveries::{
    AttemptRecord, AttemptWriter, CLAIM_BODY_BUDGET_BYTES, ClaimedDelivery, NextState, WAKE_CHANNEL,
};
pub use delivery_ids::delivery_id_for;
pub use delivery_search::{DeliveryFilter, DeliveryPosition, DeliverySummary};
pub use delivery_state::DeliveryState;
pub use event_detail::{AttemptDetail, DeliveryDetail, EventDetail, Payload, PayloadStart};
pub use event_search::{EventFilter, EventSummary};
pub use events::{EventWriter, InsertOutcome, NewDelivery, NewEvent};
pub use handshakes::HandshakeRow;
pub use id_time::first_id_at;
pub use leases::{ExpiredLeases, LEASE_EXPIRED, LeaseEnd, LeaseRef};
pub use queue_stats::PendingSummary;
pub use redeliver::Redelivery;
pub use replays::{
    BatchOutcome, ClaimedReplay, FinishedState, ReplayFilter, ReplayPosition, ReplayProgress,
};
pub use stats::{DestinationStats, SourceStats, Stats, stats_cutoff};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// How long a caller waits for a pooled connection before the store counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// No statement may run longer than this; nothing in hookgate waits forever.
const STATEMENT_TIMEOUT: &str = "15s";

/// Errors from the store, split by whether retrying later can help. Each message includes its
/// cause, which is deliberately not also a `source()`: error chains print it once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Postgres cannot be reached, is shutting down, or aborted the transaction to resolve a
    /// deadlock or serialization conflict: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// Any other database failure.
    #[error("database error: {0}")]
    Query(sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable(err)
        } else {
            StoreError::Query(err)
        }
    }
}

impl StoreError {
    /// Whether the server's TLS was refused: its certificate did not verify (unknown issuer,
    /// wrong name, expired) or it offers no TLS while `sslmode` requires it. Waiting does not
    /// fix that, so startup gives up at once instead of retrying as for a server still
    /// starting.
    pub fn is_tls_refusal(&self) -> bool {
        let cause = match self {
            StoreError::Unavailable(err) | StoreError::Query(err) => err,
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(err)) => err,
            StoreError::Migrate(_) => return false,
        };
        match cause {
            sqlx::Error::Tls(_) => true,
            // A handshake that fails verification reaches sqlx as an I/O error around it.
            sqlx::Error::Io(io) => io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
            _ => false,
        }
    }
}

fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception, 57P0x: shutdown / cannot connect now, 53: out of
            // resources, 40: transaction rollback (deadlock, serialization failure).
            ["08", "57P", "53", "40"]
                .iter()
                .any(|class| code.starts_with(class))
        }),
        _ => false,
    }
}

/// The connection pool and the queries that run on it.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// A pool for `url` whose commits are durable: a statement returns once its commit is
    /// on disk. Connections are opened on first use, so this succeeds while Postgres is down.
    ///
    /// Each connection is tested with a round trip before use, so that after a Postgres
    /// restart readiness and the admin API get a live connection, not an idle one that died
    /// with the old server. Ingest's commits do not pay for it: they run on an [`EventWriter`].
    ///
    /// JIT is off, as on the queue's pool below: every statement here is short and found by
    /// key, but one whose estimated cost passes `jit_above_cost` is compiled on every run.
    /// Retention's batch of 1,000 events took 230–310 ms that way, against 4–11 ms without
    /// (5 million events, bench/RESULTS.md).
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::connect(
            url,
            max_connections,
            &[("synchronous_commit", "on"), ("jit", "off")],
            true,
        )
    }

    /// A pool for the delivery queue's own bookkeeping (claims, attempt records, leases).
    ///
    /// Its commits return before they reach disk (`synchronous_commit = off`): a Postgres
    /// crash can forget the last few hundred milliseconds of them, never corrupt them; the
    /// deliveries concerned then look unclaimed or leased and are attempted again, so at least
    /// once still holds, and no fsync is waited for per claim or per batch of attempts.
    ///
    /// Its statements never scan a table sequentially (`enable_seqscan = off`): each one has
    /// an index made for it, and the queue table grows from nothing to millions of rows, so a
    /// plan cached while it was small (a sequential scan) would otherwise stay in use on that
    /// connection long after (until the next ANALYZE), reading the whole table per statement.
    ///
    /// Each statement is planned once per connection (`plan_cache_mode = force_generic_plan`):
    /// they run thousands of times a second with different values, and Postgres otherwise
    /// re-plans one whose generic plan it estimates dearer every time. The claim was one: it
    /// reads the day-partitioned `events`, and planning it cost ~0.8 ms per claim against
    /// ~0.25 ms to run it (bench/RESULTS.md). A generic plan cannot know how many rows a
    /// `LIMIT $n` or an array brings, so every statement here is written to have one sensible
    /// plan whatever the estimate: rows found by key (`= ANY`, lateral lookups), never a join
    /// that could read a whole table. Without a value to go by, such a plan's estimated cost
    /// can pass `jit_above_cost`, and compiling it on every run cost 50–100 ms: JIT is off.
    ///
    /// Never use it to store events.
    pub fn connect_lazy_relaxed(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::connect(
            url,
            max_connections,
            &[
                ("synchronous_commit", "off"),
                ("enable_seqscan", "off"),
                ("plan_cache_mode", "force_generic_plan"),
                ("jit", "off"),
            ],
            false,
        )
    }

    fn connect(
        url: &str,
        max_connections: u32,
        settings: &[(&str, &str)],
        test_before_acquire: bool,
    ) -> Result<Store, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(StoreError::Query)?
            .options([("statement_timeout", STATEMENT_TIMEOUT)])
            .options(settings.iter().copied())
            .application_name("hookgate")
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(test_before_acquire)
            .connect_lazy_with(options);
        Ok(Store { pool })
    }

    /// Creates the database `url` names when the server does not have it yet; answers whether
    /// it did. For first runs (`--create-database`): production databases are made by their
    /// owners, and a typo in a URL should fail rather than make a new one.
    pub async fn create_database_if_missing(url: &str) -> Result<bool, StoreError> {
        use sqlx::migrate::MigrateDatabase;
        if sqlx::Postgres::database_exists(url).await? {
            return Ok(false);
        }
        sqlx::Postgres::create_database(url).await?;
        Ok(true)
    }

    /// Applies the migrations embedded from `migrations/` that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(StoreError::Migrate)?;
        Ok(())
    }

    /// A round trip to the database: `Ok` when it answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for the ones in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
