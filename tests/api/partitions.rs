//! Day partitions of `events`: created ahead at startup, an expired day dropped whole with its
//! stragglers kept, dedupe exact across partitions, and a database from before partitioning
//! upgraded in place.

use crate::helpers::*;
use crate::independent_sign;
use hookgate::app::Role;
use hookgate::store::Store;
use std::borrow::Cow;
use std::time::{Duration, Instant};
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

/// A GitHub event as its sender would post it, again and again.
struct Sent {
    delivery: String,
    body: String,
}

impl Sent {
    fn new() -> Sent {
        Sent {
            delivery: Uuid::now_v7().to_string(),
            body: unique_body(),
        }
    }

    /// Posts it; answers the status and the acknowledged hookgate id.
    async fn post(&self, app: &TestApp) -> (u16, String) {
        let signed =
            independent_sign::github(secrets::GITHUB, self.body.as_bytes(), &self.delivery);
        let response = app.post("github", &signed, self.body.clone()).await;
        let status = response.status().as_u16();
        let ack = json(response).await;
        (status, ack["id"].as_str().expect("an id").to_owned())
    }
}

fn partition_name(day: Date) -> String {
    format!("events_{}", day_digits(day))
}

fn day_digits(day: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// A UUIDv7 from noon of `day`.
fn id_on(day: Date) -> Uuid {
    let noon = day
        .with_time(Time::from_hms(12, 0, 0).unwrap())
        .assume_utc();
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        noon.unix_timestamp() as u64,
        0,
    ))
}

async fn partitions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'events'::regclass ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// The partition that holds event `id`.
async fn partition_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT tableoid::regclass::text FROM events WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Gives a stored event (its row, key and deliveries) the id `to`: as if received then.
async fn move_event(app: &TestApp, from: &str, to: Uuid) -> String {
    let to = to.to_string();
    for statement in [
        "UPDATE events SET id = $2::uuid WHERE id = $1::uuid",
        "UPDATE event_keys SET event = $2::uuid WHERE event = $1::uuid",
        // Its deliveries' ids start with the event's, as ingest makes them.
        "UPDATE deliveries SET event_id = $2::uuid, \
         id = (left(replace($2, '-', ''), 20) || right(replace(id::text, '-', ''), 12))::uuid \
         WHERE event_id = $1::uuid",
    ] {
        sqlx::query(statement)
            .bind(from)
            .bind(&to)
            .execute(&app.db)
            .await
            .unwrap();
    }
    to
}

/// Runs `statement` about the event `event` (`$1`).
async fn on_event(app: &TestApp, statement: &str, event: &str) {
    sqlx::query(statement)
        .bind(event)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn set_states(app: &TestApp, event: &str, state: &str) {
    let statement = format!(
        "UPDATE deliveries SET state = '{state}', lease_until = NULL WHERE event_id = $1::uuid"
    );
    on_event(app, &statement, event).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_day_is_dropped_whole_and_its_stragglers_are_kept() {
    let app = spawn_app_with(TestOptions {
        role: Role::Ingest,
        ..Default::default()
    })
    .await;
    let today = OffsetDateTime::now_utc().date();
    let ahead: Vec<String> = (0..=7)
        .map(|days| partition_name(today + time::Duration::days(days)))
        .collect();
    let created = Instant::now() + Duration::from_secs(20);
    loop {
        let names = partitions(&app).await;
        if ahead.iter().all(|name| names.contains(name)) {
            break;
        }
        assert!(
            Instant::now() < created,
            "today's and the next 7 days' partitions: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let expired_day = today - time::Duration::days(40);
    sqlx::query("SELECT hookgate_create_event_partition($1)")
        .bind(expired_day)
        .execute(&app.db)
        .await
        .unwrap();
    let sent: Vec<Sent> = (0..4).map(|_| Sent::new()).collect();
    let mut ids = Vec::new();
    for event in &sent {
        let (status, id) = event.post(&app).await;
        assert_eq!(status, 202);
        assert_eq!(partition_of(&app, &id).await, partition_name(today));
        ids.push(move_event(&app, &id, id_on(expired_day)).await);
    }
    let [delivered, dead, pending, without_deliveries] = <[String; 4]>::try_from(ids).unwrap();
    assert_eq!(
        partition_of(&app, &delivered).await,
        partition_name(expired_day)
    );
    set_states(&app, &delivered, "delivered").await;
    on_event(
        &app,
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status) \
         SELECT id, 1, now(), 5, 500 FROM deliveries WHERE event_id = $1::uuid",
        &delivered,
    )
    .await;
    set_states(&app, &dead, "delivered").await;
    on_event(&app, "UPDATE deliveries SET state = 'dead' WHERE event_id = $1::uuid AND destination_id = 'ledger'", &dead).await;
    set_states(&app, &pending, "pending").await;
    on_event(
        &app,
        "DELETE FROM deliveries WHERE event_id = $1::uuid",
        &without_deliveries,
    )
    .await;

    let store = Store::connect_lazy(&app.database_url, 2).unwrap();
    let purged = hookgate::retention::purge_expired(&store, 30)
        .await
        .unwrap();
    assert_eq!(
        purged, 2,
        "the delivered event and the one without deliveries"
    );
    assert!(
        !partitions(&app)
            .await
            .contains(&partition_name(expired_day))
    );
    for straggler in [&dead, &pending] {
        assert_eq!(partition_of(&app, straggler).await, "events_default");
    }
    let count = |sql: &'static str| app.count(sql);
    assert_eq!(count("SELECT count(*) FROM events").await, 2);
    assert_eq!(count("SELECT count(*) FROM event_keys").await, 2);
    assert_eq!(
        count("SELECT count(*) FROM deliveries").await,
        4,
        "the stragglers' deliveries"
    );
    assert_eq!(count("SELECT count(*) FROM delivery_attempts").await, 0);

    // Dedupe holds for what is kept and lets go of what was dropped.
    assert_eq!(sent[1].post(&app).await, (200, dead.clone()));
    assert_eq!(sent[2].post(&app).await, (200, pending.clone()));
    let (status, again) = sent[0].post(&app).await;
    assert_eq!(status, 202, "an expired event is new again");
    assert_ne!(again, delivered);

    // Stragglers go row by row once their deliveries are final; dead ones stay.
    assert_eq!(
        hookgate::retention::purge_expired(&store, 30)
            .await
            .unwrap(),
        0
    );
    set_states(&app, &pending, "delivered").await;
    assert_eq!(
        hookgate::retention::purge_expired(&store, 30)
            .await
            .unwrap(),
        1
    );
    let remaining: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM events WHERE id < $1::uuid")
            .bind(id_on(today - time::Duration::days(1)).to_string())
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(remaining, [dead]);
    app.stop().await;
}

/// The migrations before partitioning, as an existing database has them.
fn migrations_before_partitioning() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version < 13)
            .cloned()
            .collect(),
    );
    migrator
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_partitioning_is_upgraded_in_place() {
    let database = create_database(&server_url()).await;
    let old = sqlx::PgPool::connect(&database.url).await.unwrap();
    migrations_before_partitioning().run(&old).await.unwrap();
    let today = OffsetDateTime::now_utc().date();
    let recent = Sent::new();
    let rows = [
        (
            id_on(today - time::Duration::days(40)),
            "old-delivered".to_owned(),
            "delivered",
        ),
        (
            id_on(today - time::Duration::days(40)),
            "old-dead".to_owned(),
            "dead",
        ),
        (Uuid::now_v7(), recent.delivery.clone(), "delivered"),
    ];
    for (id, event_id, state) in &rows {
        sqlx::query(
            "WITH e AS (INSERT INTO events (id, source_id, event_id, received_at, headers, body) \
             VALUES ($1, 'github', $2, now(), '{\"x-github-event\": \"push\"}', 'old') \
             RETURNING id) \
             INSERT INTO deliveries (id, event_id, destination_id, state) \
             SELECT gen_random_uuid(), id, 'billing', $3 FROM e",
        )
        .bind(id)
        .bind(event_id)
        .bind(state)
        .execute(&old)
        .await
        .unwrap();
    }
    old.close().await;

    let text = config_text(&database.url, &Dest::default(), &Dest::default(), "");
    let app = start(&text, database, Role::Ingest).await;
    let tomorrow = today + time::Duration::days(1);
    let upgraded = format!("events_upto_{}", day_digits(tomorrow));
    let names = partitions(&app).await;
    assert!(names.contains(&upgraded), "{names:?}");
    assert!(names.contains(&partition_name(tomorrow)), "{names:?}");
    assert!(
        !names.contains(&partition_name(today)),
        "today is in the upgraded table: {names:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM events").await, 3);
    assert_eq!(app.count("SELECT count(*) FROM event_keys").await, 3);
    let old_index_entries = app
        .count("SELECT count(*) FROM pg_indexes WHERE tablename = 'events_upto_' || to_char(now() AT TIME ZONE 'UTC' + interval '1 day', 'YYYYMMDD')")
        .await;
    assert_eq!(
        old_index_entries, 3,
        "its own primary key and two indexes, attached, no duplicates"
    );

    // The event stored before the upgrade still dedupes; new ones land in the upgraded table
    // until tomorrow's partition takes over.
    let recent_id = rows[2].0.to_string();
    assert_eq!(recent.post(&app).await, (200, recent_id.clone()));
    let fresh = Sent::new();
    let (status, new_id) = fresh.post(&app).await;
    assert_eq!(status, 202);
    assert_eq!(partition_of(&app, &new_id).await, upgraded);
    let response = app.admin_get(&format!("/admin/events/{recent_id}")).await;
    assert_eq!(response.status(), 200);
    // Its headers, stored as jsonb before migration 0014, read back beside the new ones.
    let detail: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        detail["headers"],
        serde_json::json!({"x-github-event": "push"})
    );
    let new_detail: serde_json::Value = app
        .admin_get(&format!("/admin/events/{new_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        new_detail["headers"]["x-github-delivery"],
        fresh.delivery.as_str()
    );
    // Its delivery, stored before migration 0016 with an id of its own, is still found.
    assert_eq!(detail["deliveries"][0]["state"], "delivered", "{detail}");
    assert_eq!(detail["deliveries"].as_array().unwrap().len(), 1);

    // Its expired rows are purged one by one until the whole table expires.
    let store = Store::connect_lazy(&app.database_url, 2).unwrap();
    assert_eq!(
        hookgate::retention::purge_expired(&store, 30)
            .await
            .unwrap(),
        1
    );
    let kept: Vec<String> = sqlx::query_scalar("SELECT event_id FROM events ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(kept[0], "old-dead");
    assert_eq!(kept.len(), 3);
    assert_eq!(
        app.count("SELECT count(*) FROM event_keys WHERE event_id = 'old-delivered'")
            .await,
        0
    );
    app.stop().await;
}
