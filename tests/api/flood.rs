//! Overload drill: a real `hookgate serve` offered ten times the rate it sustains, from
//! thousands of connections at once. The excess is answered `503` with `Retry-After`, memory
//! stays bounded (peak RSS reported), and every event acknowledged is delivered afterwards.
//! (Goodput and latency targets belong to the benchmark; this drill proves nothing is lost.)
//!
//! Storage is made slow, as a slow disk makes it: every new event key waits a few
//! milliseconds in Postgres. So the commit writer, not the CPU, sets the rate hookgate
//! sustains, and the flood is refused at admission whatever this machine's speed. With
//! storage fast, a CPU-bound hookgate leaves the excess waiting in the kernel's listen queue
//! instead (bench/RESULTS.md), and a slow hour of CI then saw no 503 at all.

use crate::drill::{self, Load, figures, scale};
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
use crate::sink::Sink;
use sqlx::{Connection, Executor, PgConnection};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Requests the flood keeps in flight at most (so up to this many connections).
const MAX_IN_FLIGHT: usize = 3000;
/// How much of its own rate hookgate is offered.
const OVERLOAD: f64 = 10.0;
/// How long Postgres takes over each new event key, on top of its own work.
const SLOW_DISK_SECS_PER_EVENT: f64 = 0.002;
/// A peak RSS beyond this is memory growing with the flood, not bounded by hookgate's limits.
const RSS_BOUND_KIB: u64 = 1024 * 1024;

fn flood_for() -> Duration {
    scale(Duration::from_secs(5), Duration::from_secs(20))
}

/// One signed request of the flood: its body and headers.
type Signed = (String, Vec<(String, String)>);

/// Makes every event stored in `database_url` wait [`SLOW_DISK_SECS_PER_EVENT`] in Postgres.
async fn slow_storage_down(database_url: &str) {
    let mut connection = PgConnection::connect(database_url).await.unwrap();
    let sql = format!(
        "CREATE FUNCTION slow_disk() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM pg_sleep({SLOW_DISK_SECS_PER_EVENT}); RETURN NEW; END $$; \
         CREATE TRIGGER slow_disk BEFORE INSERT ON event_keys \
         FOR EACH ROW EXECUTE FUNCTION slow_disk()"
    );
    connection.execute(sql.as_str()).await.unwrap();
}

fn presign(n: usize) -> Vec<Signed> {
    (0..n)
        .map(|_| {
            let body = unique_body();
            let delivery = uuid::Uuid::now_v7().to_string();
            let headers = sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
            (body, headers)
        })
        .collect()
}

#[derive(Default)]
struct Answers {
    acked: HashSet<String>,
    refused: usize,
    unhinted: usize,
    other: Vec<String>,
    refusal_times: Vec<Duration>,
}

async fn send(
    client: reqwest::Client,
    url: String,
    (body, headers): Signed,
    answers: Arc<Mutex<Answers>>,
) {
    let mut request = client.post(url).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let started = Instant::now();
    let outcome = request.send().await;
    let took = started.elapsed();
    let (status, hinted, id) = match outcome {
        Ok(response) => {
            let status = response.status().as_u16();
            let hinted = response.headers().contains_key("retry-after");
            let id = if status == 202 {
                json(response).await["id"].as_str().map(str::to_owned)
            } else {
                None
            };
            (status, hinted, id)
        }
        Err(error) => {
            answers.lock().unwrap().other.push(format!("{error:?}"));
            return;
        }
    };
    let mut answers = answers.lock().unwrap();
    match (status, id) {
        (202, Some(id)) => {
            answers.acked.insert(id);
        }
        (503, _) => {
            answers.refused += 1;
            answers.refusal_times.push(took);
            answers.unhinted += usize::from(!hinted);
        }
        (status, _) => answers.other.push(status.to_string()),
    }
}

/// Sends `requests` at `rate` per second, each on its own task as its moment comes (an open
/// loop: a slow answer does not slow the sender), at most [`MAX_IN_FLIGHT`] at once; answers
/// how many were sent and the time it took. Each request in flight has a client (and so a
/// connection) of its own, as a sender with that many connections has: one shared pool kept
/// opening connections while hookgate left the excess waiting in its accept queue, until the
/// test ran out of file descriptors.
async fn flood(
    url: &str,
    requests: Vec<Signed>,
    rate: f64,
    answers: &Arc<Mutex<Answers>>,
) -> (usize, Duration) {
    let clients: Vec<reqwest::Client> = (0..MAX_IN_FLIGHT)
        .map(|_| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap()
        })
        .collect();
    let clients = Arc::new(Mutex::new(clients));
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut sent = 0;
    let mut requests = requests.into_iter();
    'sending: loop {
        let due = (started.elapsed().as_secs_f64() * rate) as usize;
        while sent < due {
            let Some(request) = requests.next() else {
                break 'sending;
            };
            let slot = slots.clone().acquire_owned().await.unwrap();
            let client = clients
                .lock()
                .unwrap()
                .pop()
                .expect("a free slot has a client");
            let (clients, url, answers) = (clients.clone(), url.to_owned(), answers.clone());
            tasks.spawn(async move {
                send(client.clone(), url, request, answers).await;
                clients.lock().unwrap().push(client);
                drop(slot);
            });
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let sending = started.elapsed();
    while tasks.join_next().await.is_some() {}
    (sent, sending)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_times_the_sustainable_rate_gets_fast_503s_and_loses_nothing() {
    let sink = Sink::ok();
    let database = create_database(&server_url()).await;
    let config = config_text(
        &database.url,
        &Dest::at(&sink.url, ""),
        &Dest::default(),
        "",
    );
    let process = ServeProcess::start(&config);
    slow_storage_down(&database.url).await;

    let load = Load::start(std::slice::from_ref(&process.ingest), 16);
    load.wait_for_acks(20, Duration::from_secs(30)).await;
    let sustainable = load.ack_rate(Duration::from_secs(3)).await;
    let warm_up = load.finish().await;
    warm_up.assert_only_acks_and_hinted_503s();

    let offered = OVERLOAD * sustainable;
    let requests = presign((offered * flood_for().as_secs_f64()) as usize);
    let answers = Arc::new(Mutex::new(Answers::default()));
    let url = format!("{}/webhooks/github", process.ingest);
    let (sent, sending) = flood(&url, requests, offered, &answers).await;
    let peak_rss_kib = process.peak_rss_kib();

    let mut answers = std::mem::take(&mut *answers.lock().unwrap());
    assert!(
        answers.other.is_empty(),
        "not 202 or 503: {:?}",
        &answers.other[..answers.other.len().min(10)]
    );
    assert_eq!(answers.unhinted, 0, "503s without Retry-After");
    assert!(answers.refused > 0, "the flood never overloaded hookgate");
    assert!(peak_rss_kib < RSS_BOUND_KIB, "peak RSS {peak_rss_kib} KiB");
    let mut acked = answers.acked.clone();
    acked.extend(warm_up.acked);
    // However fast the flood was acknowledged, the drain goes at the delivery rate.
    let drain = Duration::from_secs(120 + (acked.len() / 1000) as u64);
    let repeats = drill::wait_all_delivered(&sink, &acked, drain).await;

    answers.refusal_times.sort();
    let refusal_p99 = answers.refusal_times[(answers.refusal_times.len() * 99).div_ceil(100) - 1];
    figures(
        "overload",
        &[
            ("sustainable", format!("{sustainable:.0}/s")),
            ("offered", format!("{offered:.0}/s")),
            (
                "sent",
                format!(
                    "{sent} in {:.1}s ({:.0}/s)",
                    sending.as_secs_f64(),
                    sent as f64 / sending.as_secs_f64()
                ),
            ),
            ("max_in_flight", MAX_IN_FLIGHT.to_string()),
            ("acked", answers.acked.len().to_string()),
            (
                "acked_rate",
                format!(
                    "{:.0}/s",
                    answers.acked.len() as f64 / sending.as_secs_f64()
                ),
            ),
            ("refused_503", answers.refused.to_string()),
            ("refusal_p99_client_side", format!("{refusal_p99:?}")),
            ("peak_rss", format!("{} MiB", peak_rss_kib / 1024)),
            ("delivered", acked.len().to_string()),
            ("duplicates", repeats.to_string()),
        ],
    );
}
