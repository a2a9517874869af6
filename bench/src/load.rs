//! The load driver: one HTTP/1.1 connection per worker, every request validly signed and a new
//! event. Closed loop (each connection sends its next request when the previous one is
//! answered) or open loop (requests are due at a fixed rate and latency counts from the time a
//! request was due, so a stalled server cannot hide its stall: no coordinated omission).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::latency::{self, Percentiles};
use crate::payload::Signer;
use crate::rss::Memory;

/// How long one request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed connect, so a refused port does not spin.
const RECONNECT_PAUSE: Duration = Duration::from_millis(20);

/// What to drive and how hard.
pub struct LoadPlan {
    /// `http://127.0.0.1:PORT/path`; only plain HTTP on loopback is supported.
    pub url: String,
    pub connections: usize,
    pub duration: Duration,
    /// Open loop at this many requests per second; closed loop when `None`.
    pub rate: Option<f64>,
}

/// The outcome of one load run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadReport {
    pub url: String,
    pub connections: usize,
    pub duration_s: f64,
    /// Offered rate of an open-loop run.
    pub offered_rate: Option<f64>,
    /// Requests answered (any status) per second of the run.
    pub requests_per_sec: f64,
    /// 2xx answers per second of the run.
    pub accepted_per_sec: f64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Connection failures and timeouts.
    pub errors: u64,
    /// Latency of every answered request, from the time it was due (open loop) or sent.
    pub latency: Percentiles,
    /// Latency of 2xx answers only, from the time each request was sent.
    pub accepted_latency: Percentiles,
    /// Latency of 503 answers, from the time each request was sent.
    pub rejected_latency: Percentiles,
    /// Memory of the watched server process, when one was watched.
    pub memory: Option<Memory>,
}

impl LoadReport {
    /// Prints the human-readable report.
    pub fn print(&self, label: &str) {
        let mode = match self.offered_rate {
            Some(rate) => format!("open loop at {rate:.0} req/s"),
            None => "closed loop".to_string(),
        };
        println!(
            "== {label}: {} connections, {mode}, {:.1} s → {}",
            self.connections, self.duration_s, self.url
        );
        println!(
            "   {:.0} req/s answered, {:.0} req/s 2xx, {} errors",
            self.requests_per_sec, self.accepted_per_sec, self.errors
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        println!("   statuses  {}", statuses.join(", "));
        println!("   latency   {}", self.latency.line());
        if self.offered_rate.is_some() {
            println!("   2xx (from send) {}", self.accepted_latency.line());
        }
        if self.rejected_latency.count > 0 {
            println!("   503 (from send) {}", self.rejected_latency.line());
        }
        if let Some(memory) = &self.memory {
            println!(
                "   server RSS max {:.1} MiB, at end {:.1} MiB, VmHWM {:.1} MiB",
                memory.max_rss_mib, memory.end_rss_mib, memory.peak_hwm_mib
            );
        }
    }
}

/// Hands out request numbers and, in open loop, the instant each is due.
struct Schedule {
    next: AtomicU64,
    start: Instant,
    end: Instant,
    interval: Option<Duration>,
}

impl Schedule {
    /// The next request number and when it is due; `None` once the run is over.
    fn take(&self) -> Option<(u64, Option<Instant>)> {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        match self.interval {
            Some(interval) => {
                let due = self.start + interval.mul_f64(seq as f64);
                (due < self.end).then_some((seq, Some(due)))
            }
            None => (Instant::now() < self.end).then_some((seq, None)),
        }
    }
}

/// One worker's tallies, merged at the end.
struct Tally {
    statuses: BTreeMap<u16, u64>,
    errors: u64,
    latency: Histogram<u64>,
    accepted: Histogram<u64>,
    rejected: Histogram<u64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            statuses: BTreeMap::new(),
            errors: 0,
            latency: latency::new_histogram(),
            accepted: latency::new_histogram(),
            rejected: latency::new_histogram(),
        }
    }

    fn merge(&mut self, other: Tally) -> anyhow::Result<()> {
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.errors += other.errors;
        self.latency.add(other.latency)?;
        self.accepted.add(other.accepted)?;
        self.rejected.add(other.rejected)?;
        Ok(())
    }
}

/// Where requests go, parsed once.
struct Target {
    /// `host:port` to connect to and send as `Host`.
    authority: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Target> {
        let uri: hyper::Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
        anyhow::ensure!(uri.scheme_str() == Some("http"), "only http:// URLs: {url}");
        let authority = uri.authority().context("URL without host")?.to_string();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        Ok(Target { authority, path })
    }
}

/// Runs `plan` with requests from `signer`, watching the server's memory when `watch` is given.
pub async fn run(
    plan: &LoadPlan,
    signer: Arc<Signer>,
    watch: Option<u32>,
) -> anyhow::Result<LoadReport> {
    let target = Arc::new(Target::parse(&plan.url)?);
    let start = Instant::now();
    let schedule = Arc::new(Schedule {
        next: AtomicU64::new(0),
        start,
        end: start + plan.duration,
        interval: plan.rate.map(|rate| Duration::from_secs_f64(1.0 / rate)),
    });
    let watcher = watch.map(crate::rss::RssWatch::start);
    let workers: Vec<_> = (0..plan.connections)
        .map(|_| {
            tokio::spawn(worker(
                Arc::clone(&target),
                Arc::clone(&schedule),
                Arc::clone(&signer),
            ))
        })
        .collect();
    let mut tally = Tally::new();
    for worker in workers {
        tally.merge(worker.await??)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let answered: u64 = tally.statuses.values().sum();
    let accepted: u64 = tally
        .statuses
        .iter()
        .filter(|(status, _)| (200..300).contains(*status))
        .map(|(_, count)| count)
        .sum();
    Ok(LoadReport {
        url: plan.url.clone(),
        connections: plan.connections,
        duration_s: elapsed,
        offered_rate: plan.rate,
        requests_per_sec: answered as f64 / elapsed,
        accepted_per_sec: accepted as f64 / elapsed,
        statuses: tally.statuses,
        errors: tally.errors,
        latency: Percentiles::of(&tally.latency),
        accepted_latency: Percentiles::of(&tally.accepted),
        rejected_latency: Percentiles::of(&tally.rejected),
        memory: watcher.map(crate::rss::RssWatch::finish),
    })
}

/// One connection's loop: take the next request, wait until it is due, send, record.
async fn worker(
    target: Arc<Target>,
    schedule: Arc<Schedule>,
    signer: Arc<Signer>,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new();
    let mut connection: Option<SendRequest<Full<Bytes>>> = None;
    while let Some((seq, due)) = schedule.take() {
        if let Some(due) = due {
            tokio::time::sleep_until(due).await;
        }
        let sender = match connection.as_mut() {
            Some(sender) => sender,
            None => match connect(&target.authority).await {
                Ok(sender) => connection.insert(sender),
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        let signed = signer.request(seq)?;
        let mut request = hyper::Request::post(target.path.as_str())
            .header(hyper::header::HOST, target.authority.as_str());
        for (name, value) in &signed.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Full::new(Bytes::from(signed.body)))?;
        let sent = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, exchange(sender, request)).await;
        let done = Instant::now();
        let status = match answer {
            Ok(Ok(status)) => status,
            _ => {
                tally.errors += 1;
                connection = None;
                continue;
            }
        };
        *tally.statuses.entry(status).or_default() += 1;
        let micros = |from: Instant| done.duration_since(from).as_micros() as u64;
        latency::record(&mut tally.latency, micros(due.unwrap_or(sent)));
        if (200..300).contains(&status) {
            latency::record(&mut tally.accepted, micros(sent));
        } else if status == 503 {
            latency::record(&mut tally.rejected, micros(sent));
        }
    }
    Ok(tally)
}

/// Opens one HTTP/1.1 connection with Nagle off.
async fn connect(authority: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(authority).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one request and reads the whole answer; returns its status.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: hyper::Request<Full<Bytes>>,
) -> anyhow::Result<u16> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}
