//! What the fault drills share: signed load from many connections that records every answer,
//! the check that every acknowledged event reached the destination, the short/soak scale, and
//! the one figures line each drill prints.
//!
//! In `scripts/test` the drills run short; `scripts/soak` sets `HOOKGATE_SOAK=1` and they run
//! their long form (more kills, longer outages) with the same checks.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Received, Sink};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether the drills run in their long (soak) form.
pub fn soak() -> bool {
    std::env::var_os("HOOKGATE_SOAK").is_some_and(|value| value != "0")
}

/// `short` in the test suite, `long` in the soak.
pub fn scale<T>(short: T, long: T) -> T {
    if soak() { long } else { short }
}

/// How a sender paces itself after an answer that was not an acknowledgement, as a provider
/// backs off, so an outage does not turn the drill into a busy loop.
const PAUSE_AFTER_REFUSAL: Duration = Duration::from_millis(50);

/// Everything the load saw.
#[derive(Default)]
struct Seen {
    acked: HashSet<String>,
    statuses: BTreeMap<u16, usize>,
    /// 503s that came without a `Retry-After`.
    unhinted_503s: usize,
    /// Requests that got no answer (connection refused or reset).
    unanswered: usize,
    slowest: Duration,
}

/// Signed GitHub webhooks with new ids posted without pause from several connections to one
/// or more ingest URLs (round robin), until [`Load::finish`].
pub struct Load {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    senders: Vec<tokio::task::JoinHandle<()>>,
}

/// What a finished load saw.
pub struct LoadReport {
    pub acked: HashSet<String>,
    pub statuses: BTreeMap<u16, usize>,
    pub unhinted_503s: usize,
    pub unanswered: usize,
    pub slowest: Duration,
}

impl Load {
    pub fn start(ingests: &[String], connections: usize) -> Load {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let senders = (0..connections)
            .map(|n| {
                let ingest = ingests[n % ingests.len()].clone();
                tokio::spawn(send(ingest, seen.clone(), stop.clone()))
            })
            .collect();
        Load {
            seen,
            stop,
            senders,
        }
    }

    /// Events acknowledged so far.
    pub fn acked(&self) -> usize {
        self.seen.lock().unwrap().acked.len()
    }

    /// Answers with `status` so far.
    pub fn answered(&self, status: u16) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Waits until `n` more events than now are acknowledged (panics after `within`).
    pub async fn wait_for_acks(&self, n: usize, within: Duration) {
        let target = self.acked() + n;
        let deadline = Instant::now() + within;
        while self.acked() < target {
            assert!(
                Instant::now() < deadline,
                "{} acknowledged, waited for {target}; answers {:?}",
                self.acked(),
                self.seen.lock().unwrap().statuses
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Acknowledgements per second over `window`.
    pub async fn ack_rate(&self, window: Duration) -> f64 {
        let before = self.acked();
        tokio::time::sleep(window).await;
        (self.acked() - before) as f64 / window.as_secs_f64()
    }

    pub async fn finish(self) -> LoadReport {
        self.stop.store(true, Ordering::SeqCst);
        for sender in self.senders {
            sender.await.unwrap();
        }
        let seen = std::mem::take(&mut *self.seen.lock().unwrap());
        LoadReport {
            acked: seen.acked,
            statuses: seen.statuses,
            unhinted_503s: seen.unhinted_503s,
            unanswered: seen.unanswered,
            slowest: seen.slowest,
        }
    }
}

impl LoadReport {
    /// Panics unless every answer was a 202 or a 503 with `Retry-After` (never another 2xx
    /// for a new event, never a 4xx for a valid one, never a 5xx but 503).
    pub fn assert_only_acks_and_hinted_503s(&self) {
        let unexpected: Vec<_> = self
            .statuses
            .iter()
            .filter(|(status, _)| !matches!(status, 202 | 503))
            .collect();
        assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
        assert_eq!(self.unhinted_503s, 0, "503s without Retry-After");
    }

    /// `202=N 503=M` for the figures line.
    pub fn statuses_text(&self) -> String {
        let mut text: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{status}={n}"))
            .collect();
        if self.unanswered > 0 {
            text.push(format!("unanswered={}", self.unanswered));
        }
        text.join(" ")
    }
}

async fn send(ingest: String, seen: Arc<Mutex<Seen>>, stop: Arc<AtomicBool>) {
    let http = http();
    while !stop.load(Ordering::SeqCst) {
        let body = unique_body();
        let delivery = uuid::Uuid::now_v7().to_string();
        let mut request = http
            .post(format!("{ingest}/webhooks/github"))
            .body(body.clone());
        for (name, value) in sign::github(secrets::GITHUB, body.as_bytes(), &delivery) {
            request = request.header(name, value);
        }
        let started = Instant::now();
        let Ok(response) = request.send().await else {
            seen.lock().unwrap().unanswered += 1;
            tokio::time::sleep(PAUSE_AFTER_REFUSAL).await;
            continue;
        };
        let status = response.status().as_u16();
        let hinted = response.headers().contains_key("retry-after");
        let id = if status == 202 {
            Some(json(response).await["id"].as_str().unwrap().to_owned())
        } else {
            None
        };
        let took = started.elapsed();
        {
            let mut seen = seen.lock().unwrap();
            *seen.statuses.entry(status).or_default() += 1;
            seen.slowest = seen.slowest.max(took);
            if status == 503 && !hinted {
                seen.unhinted_503s += 1;
            }
            if let Some(id) = &id {
                seen.acked.insert(id.clone());
            }
        }
        if id.is_none() {
            tokio::time::sleep(PAUSE_AFTER_REFUSAL).await;
        }
    }
}

/// How many times each event (by `Idempotency-Key`) reached `sink`.
pub fn arrivals(sink: &Sink) -> HashMap<String, usize> {
    let mut arrivals = HashMap::new();
    for received in sink.received() {
        *arrivals
            .entry(received.header("Idempotency-Key").to_owned())
            .or_default() += 1;
    }
    arrivals
}

/// Waits until every acknowledged event has reached `sink` (panics after `within`); answers
/// how many deliveries repeated one that had arrived already (at-least-once: only an attempt
/// whose outcome was never recorded is made again).
pub async fn wait_all_delivered(sink: &Sink, acked: &HashSet<String>, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let arrivals = arrivals(sink);
        let missing = acked
            .iter()
            .filter(|id| !arrivals.contains_key(*id))
            .count();
        if missing == 0 {
            return arrivals.values().map(|n| n - 1).sum();
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} acknowledged events never delivered",
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Panics unless every repeated delivery (same `Idempotency-Key`) arrived at least
/// `answer_delay` after the one before it — closer would mean it was in flight twice at once —
/// and the two straddle `killed_at`: only an attempt in flight when a process was killed (its
/// outcome never recorded) is made again. Answers how many deliveries were repeats.
pub fn assert_repeats_only_across_the_kill(
    received: &[Received],
    answer_delay: Duration,
    killed_at: Instant,
) -> usize {
    let mut times_by_key: HashMap<&str, Vec<Instant>> = HashMap::new();
    for r in received {
        times_by_key
            .entry(r.header("Idempotency-Key"))
            .or_default()
            .push(r.at);
    }
    let mut repeats = 0;
    for (key, mut times) in times_by_key {
        times.sort();
        repeats += times.len() - 1;
        for pair in times.windows(2) {
            assert!(
                pair[1] - pair[0] >= answer_delay,
                "{key} was in flight twice at once"
            );
            assert!(
                pair[0] < killed_at && pair[1] > killed_at,
                "{key} was delivered twice although no process died during its attempt"
            );
        }
    }
    repeats
}

/// Prints the drill's figures line: `drill <name>: key=value …`.
pub fn figures(name: &str, figures: &[(&str, String)]) {
    let line: Vec<String> = figures.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("drill {name}: {}", line.join(" "));
}
