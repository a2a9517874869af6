//! Retention's stand-in for autovacuum: on a server that runs without it, the tables retention
//! deletes from are vacuumed once their dead rows pile up, so purged space is reused.

use crate::helpers::*;
use hookgate::store::Store;
use std::time::{Duration, Instant};

const DEAD_EVENTS: i64 = 5_000;

/// The default partition of `events` (where rows with these random ids land): its dead rows
/// and vacuum count, as the statistics system reports them now.
async fn events_stats(app: &TestApp) -> (i64, i64) {
    sqlx::query_as(
        "SELECT n_dead_tup, vacuum_count FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() AND relname = 'events_default'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_whose_dead_rows_piled_up_are_vacuumed_and_others_left_alone() {
    let app = spawn_app().await;
    let store = Store::connect_lazy(&app.database_url, 2).unwrap();
    assert_eq!(
        store.vacuum_piled_up_tables().await.unwrap(),
        Vec::<String>::new()
    );
    // Whatever the server's setting, its autovacuum must not get there first.
    sqlx::query("ALTER TABLE events_default SET (autovacuum_enabled = false)")
        .execute(&app.db)
        .await
        .unwrap();

    sqlx::query(
        "INSERT INTO events (id, source_id, event_id, received_at, headers, body) \
         SELECT gen_random_uuid(), 'github', 'e' || g, now(), '{}', '\\x00' \
         FROM generate_series(1, $1) g",
    )
    .bind(DEAD_EVENTS)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("DELETE FROM events")
        .execute(&app.db)
        .await
        .unwrap();
    // Statistics reach the shared counters shortly after the transactions that made them.
    let counted = Instant::now() + Duration::from_secs(20);
    while events_stats(&app).await.0 < DEAD_EVENTS {
        assert!(Instant::now() < counted, "the dead rows were never counted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let vacuums_before = events_stats(&app).await.1;

    assert_eq!(
        store.vacuum_piled_up_tables().await.unwrap(),
        vec!["events_default"]
    );
    let (dead, vacuums) = events_stats(&app).await;
    assert_eq!(dead, 0);
    assert_eq!(vacuums, vacuums_before + 1);
    assert_eq!(
        store.vacuum_piled_up_tables().await.unwrap(),
        Vec::<String>::new()
    );
    app.stop().await;
}
