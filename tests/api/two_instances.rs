//! Two `hookgate serve` processes on one database, load split across them, one killed with
//! `kill -9`: every acknowledged event is delivered, by the survivor where needed, and no
//! delivery is ever attempted by both at once. A bulk replay asked of one of them runs once.

use crate::drill::{arrivals, assert_repeats_only_across_the_kill, figures};
use crate::durability::post_github;
use crate::helpers::*;
use crate::process::ServeProcess;
use crate::sink::{Reply, Sink};
use std::collections::HashSet;
use std::time::Duration;

const EVENTS: usize = 80;
const BURST: usize = 20;
/// How long the destination takes to answer (so the victim dies with deliveries in flight):
/// two arrivals of one delivery closer than this would mean it was in flight twice at once.
const ANSWER_DELAY: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_the_work_and_the_survivor_finishes_it() {
    let sink = Sink::start(vec![], Reply::status(200).after(ANSWER_DELAY));
    let database = create_database(&server_url()).await;
    let billing = Dest::at(&sink.url, "timeout_ms = 2000");
    let config = config_text(&database.url, &billing, &Dest::default(), "");
    let survivor = ServeProcess::start(&config);
    let victim = ServeProcess::start(&config);

    let mut acked = HashSet::new();
    for n in 0..EVENTS {
        let ingest = if n % 2 == 0 {
            &survivor.ingest
        } else {
            &victim.ingest
        };
        acked.insert(post_github(ingest).await);
    }
    // A burst to the victim, killed while its deliveries are in flight at the destination.
    let burst = (0..BURST).map(|_| post_github(&victim.ingest));
    acked.extend(futures_util::future::join_all(burst).await);
    tokio::time::sleep(ANSWER_DELAY / 3).await;
    victim.signal("KILL");
    let killed_at = std::time::Instant::now();
    for _ in 0..EVENTS / 2 {
        acked.insert(post_github(&survivor.ingest).await);
    }

    // Delivered as the database records it: the victim's in-flight attempts reached the
    // destination but were never recorded, so they count only once the survivor redid them.
    let db = sqlx::PgPool::connect(&database.url).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'delivered'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if delivered as usize == acked.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{delivered} of {} acknowledged events delivered",
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let received = sink.received();
    let delivered: HashSet<&str> = received
        .iter()
        .map(|r| r.header("X-Hookgate-Event-Id"))
        .collect();
    assert!(acked.iter().all(|id| delivered.contains(id.as_str())));

    let repeated = assert_repeats_only_across_the_kill(&received, ANSWER_DELAY, killed_at);
    figures(
        "two-instances",
        &[
            ("acked", acked.len().to_string()),
            ("delivered", acked.len().to_string()),
            ("deliveries", received.len().to_string()),
            ("duplicates", repeated.to_string()),
        ],
    );
}

const DEAD: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bulk_replay_asked_of_one_of_two_instances_redrives_each_dead_delivery_once() {
    // Every event's first attempt is refused for good (400): dead at once.
    let sink = Sink::start(vec![Reply::status(400); DEAD], Reply::status(200));
    let database = create_database(&server_url()).await;
    let billing = Dest::at(&sink.url, "");
    let config = config_text(&database.url, &billing, &Dest::default(), "");
    let first = ServeProcess::start(&config);
    let second = ServeProcess::start(&config);
    for n in 0..DEAD {
        post_github(if n % 2 == 0 {
            &first.ingest
        } else {
            &second.ingest
        })
        .await;
    }
    sink.wait_for(DEAD, Duration::from_secs(60)).await;
    // The sink counts the 300th refusal as it answers it, a moment before the worker
    // records that delivery dead: the replay is asked for once all are recorded.
    let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
    wait_count(&pool, DEAD_DELIVERIES, DEAD as i64, Duration::from_secs(20)).await;

    let started = http()
        .post(format!("{}/admin/replays", second.admin))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"status": "dead"}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let replay = json(started).await;
    assert_eq!(replay["matched"], DEAD);
    let progress_url = format!(
        "{}/admin/replays/{}",
        first.admin,
        replay["id"].as_str().unwrap()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let progress = json(
            http()
                .get(&progress_url)
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if progress["state"] == "completed" {
            assert_eq!(progress["replayed"], DEAD, "{progress}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{progress}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sink.wait_for(2 * DEAD, Duration::from_secs(60)).await;
    // Let a replay run twice show itself before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let arrivals = arrivals(&sink);
    assert_eq!(arrivals.len(), DEAD);
    assert!(
        arrivals.values().all(|n| *n == 2),
        "each event arrives once refused and once replayed: {:?}",
        arrivals.values().filter(|n| **n != 2).collect::<Vec<_>>()
    );
    figures(
        "bulk-replay-two-instances",
        &[
            ("dead", DEAD.to_string()),
            ("replayed", DEAD.to_string()),
            ("deliveries", sink.count().to_string()),
            ("replayed_twice", "0".to_string()),
        ],
    );
}
