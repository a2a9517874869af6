//! The crash loop: signed load from several connections while hookgate is killed with
//! `kill -9` at varying moments and restarted, five times. Every acknowledged event ends up
//! delivered; a delivery repeats only when a kill cut its attempt short (reported).

use crate::durability::post_github;
use crate::helpers::*;
use crate::process::ServeProcess;
use crate::sink::Sink;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const KILLS: usize = 5;
const SENDERS: usize = 4;

/// A delay between 200 and 800 ms that differs from run to run and kill to kill.
fn moment() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(200 + u64::from(nanos) % 600)
}

/// Posts new events to `ingest` until one is not acknowledged (the process died).
async fn send_until_refused(ingest: String, acked: Arc<Mutex<HashSet<String>>>) {
    loop {
        let body = unique_body();
        let delivery = uuid::Uuid::now_v7().to_string();
        let signed = crate::independent_sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
        let mut request = http().post(format!("{ingest}/webhooks/github")).body(body);
        for (name, value) in signed {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) if response.status() == 202 => {
                let id = json(response).await["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().insert(id);
            }
            _ => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_five_times_loses_no_acknowledged_event() {
    let sink = Sink::ok();
    let database = create_database(&server_url()).await;
    let billing = Dest::at(&sink.url, "timeout_ms = 2000");
    let config = config_text(&database.url, &billing, &Dest::default(), "");
    let acked = Arc::new(Mutex::new(HashSet::new()));
    for _ in 0..KILLS {
        let process = ServeProcess::start(&config);
        let senders: Vec<_> = (0..SENDERS)
            .map(|_| tokio::spawn(send_until_refused(process.ingest.clone(), acked.clone())))
            .collect();
        tokio::time::sleep(moment()).await;
        process.signal("KILL");
        for sender in senders {
            sender.await.unwrap();
        }
        drop(process);
    }
    let survivor = ServeProcess::start(&config);
    let last = post_github(&survivor.ingest).await;
    acked.lock().unwrap().insert(last);
    let acked = acked.lock().unwrap().clone();

    let db = sqlx::PgPool::connect(&database.url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let delivered: Vec<String> = sqlx::query_scalar(
            "SELECT event_id::text FROM deliveries WHERE destination_id = 'billing' AND state = 'delivered'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let delivered: HashSet<String> = delivered.into_iter().collect();
        let missing = acked.difference(&delivered).count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} acknowledged events undelivered",
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for received in sink.received() {
        *arrivals
            .entry(received.header("X-Hookgate-Event-Id").to_owned())
            .or_default() += 1;
    }
    assert!(acked.iter().all(|id| arrivals.contains_key(id)));
    let repeated: usize = arrivals.values().map(|n| n - 1).sum();
    eprintln!(
        "crash loop: {KILLS} kills, {} acknowledged, all delivered; {repeated} deliveries repeated (attempts cut short by a kill)",
        acked.len()
    );
}
