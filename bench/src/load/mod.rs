//! The load driver: one HTTP/1.1 connection per worker, every request validly signed and a new
//! event. Closed loop (each connection sends its next request when the previous one is
//! answered) or open loop (requests are due at a fixed rate and latency counts from the time a
//! request was due, so a stalled server cannot hide its stall: no coordinated omission).
//! All connections are opened before the clock starts; a worker whose connection the server
//! closed opens a new one before its next request. Failures (connects, timeouts, broken
//! connections) are counted and reported, never fatal.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::cpu::{cpu_secs, postgres_cpu_secs};
use crate::latency::Percentiles;
use crate::payload::Signer;
use crate::rss::Memory;
use crate::server_latency::{ServerLatency, scrape};
use crate::server_timeline::ServerTimeline;
use tally::{Failure, Tally};

mod tally;

/// How long one request (or one connect) may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed connect, so a refused port does not spin.
const RECONNECT_PAUSE: Duration = Duration::from_millis(20);
/// The resolution of the runtime's timer: a sleep wakes on the first tick at or after its
/// deadline, up to this much late. Open-loop workers wake a tick before a request is due and
/// count its latency from the due time or the send, whichever came first, so the timer's
/// rounding is not charged to the server and no exchange is counted shorter than it was.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// What to drive and how hard.
pub struct LoadPlan {
    /// `http://127.0.0.1:PORT/path`; only plain HTTP on loopback is supported.
    pub url: String,
    pub connections: usize,
    pub duration: Duration,
    /// Open loop at this many requests per second; closed loop when `None`.
    pub rate: Option<f64>,
    /// The server's `/metrics`, scraped before and after for its own latency figures.
    pub server_metrics: Option<String>,
    /// Whether a connection answered `503` + `Retry-After` waits that long before its next
    /// request.
    pub wait_out_retry_after: bool,
}

/// The outcome of one load run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadReport {
    pub url: String,
    pub connections: usize,
    /// Seconds it took to open the connections, before the run (not part of `duration_s`).
    #[serde(default)]
    pub connect_s: f64,
    pub duration_s: f64,
    /// Seconds the load was planned to last (requests are due within them); `duration_s` runs
    /// on to the last answer.
    #[serde(default)]
    pub planned_s: f64,
    /// Offered rate of an open-loop run.
    pub offered_rate: Option<f64>,
    /// Whether a connection answered `503` + `Retry-After` waited that long before its next
    /// request (as providers retry later), or sent its next due request at once.
    #[serde(default)]
    pub waited_out_retry_after: bool,
    /// Requests answered (any status) per second of the run.
    pub requests_per_sec: f64,
    /// 2xx answers per second of the run.
    pub accepted_per_sec: f64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer: failed connects, timeouts and broken connections.
    pub errors: u64,
    /// Of `errors`: connects that failed (the request was not sent; the worker retries after a
    /// short pause with its next request).
    #[serde(default)]
    pub connect_errors: u64,
    /// Of `errors`: requests not answered within the request timeout (30 s).
    #[serde(default)]
    pub timeouts: u64,
    /// The first error met, to tell a refused connect from a lack of file descriptors.
    #[serde(default)]
    pub first_error: Option<String>,
    /// The 2xx answers that arrived in each second of the run (index 0: its first second):
    /// shows when a saturated server caught up with what was offered.
    #[serde(default)]
    pub accepted_by_second: Vec<u64>,
    /// Latency of every answered request, from the time it was due (open loop) or sent.
    pub latency: Percentiles,
    /// Latency of 2xx answers only, from the time each request was sent.
    pub accepted_latency: Percentiles,
    /// Latency of 503 answers, from the time each request was sent.
    pub rejected_latency: Percentiles,
    /// Open loop: how late requests were sent after they were due. The timer's ~1 ms
    /// granularity, plus any wait for a free connection or a new connect; a large p99 means the
    /// connections ran out (or the driver could not keep up), not that the server was slow.
    #[serde(default)]
    pub send_lag: Percentiles,
    /// Memory of the watched server process, when one was watched.
    pub memory: Option<Memory>,
    /// CPU seconds (user + system) the watched server process spent during the run.
    #[serde(default)]
    pub server_cpu_secs: Option<f64>,
    /// CPU seconds every Postgres process spent during the run (see `crate::cpu`).
    #[serde(default)]
    pub postgres_cpu_secs: Option<f64>,
    /// What the server accepted and delivered by the end of each second, when its metrics were
    /// scraped.
    #[serde(default)]
    pub server_timeline: Option<ServerTimeline>,
    /// The answers as the server timed them, when its metrics were scraped.
    #[serde(default)]
    pub server_latency: Option<ServerLatency>,
}

impl LoadReport {
    /// Requests answered, whatever the status.
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Open loop: 2xx answers per second while the load was being offered (answers that
    /// arrived within the run's planned length). `accepted_per_sec` runs on to the last answer
    /// or timeout, so after an overload it also counts the tail in which the server works off
    /// what queued and then waits, idle, for connects that time out.
    pub fn accepted_while_offered_per_sec(&self) -> Option<f64> {
        self.offered_rate?;
        let seconds = self.planned_s.floor() as usize;
        let counted = seconds.min(self.accepted_by_second.len());
        (seconds > 0)
            .then(|| self.accepted_by_second[..counted].iter().sum::<u64>() as f64 / seconds as f64)
    }

    /// Requests answered with a 2xx status.
    pub fn accepted(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| (200..300).contains(*status))
            .map(|(_, count)| count)
            .sum()
    }

    /// Percentage of the answered requests that got `status` (0 when none was answered).
    pub fn share_pct(&self, status: u16) -> f64 {
        let count = self.statuses.get(&status).copied().unwrap_or(0);
        100.0 * count as f64 / self.answered().max(1) as f64
    }

    /// The watched server's CPU per 2xx answer, in microseconds.
    pub fn cpu_us_per_accepted(&self) -> Option<f64> {
        Some(1e6 * self.server_cpu_secs? / self.accepted().max(1) as f64)
    }

    /// Postgres's CPU per 2xx answer, in microseconds.
    pub fn postgres_us_per_accepted(&self) -> Option<f64> {
        Some(1e6 * self.postgres_cpu_secs? / self.accepted().max(1) as f64)
    }

    /// Prints the human-readable report.
    pub fn print(&self, label: &str) {
        let mut mode = match self.offered_rate {
            Some(rate) => format!("open loop at {rate:.0} req/s"),
            None => "closed loop".to_string(),
        };
        if self.waited_out_retry_after {
            mode.push_str(", Retry-After waited out");
        }
        println!(
            "== {label}: {} connections (opened in {:.2} s), {mode}, {:.1} s → {}",
            self.connections, self.connect_s, self.duration_s, self.url
        );
        println!(
            "   {:.0} req/s answered, {:.0} req/s 2xx, {} errors ({} connect, {} timeouts)",
            self.requests_per_sec,
            self.accepted_per_sec,
            self.errors,
            self.connect_errors,
            self.timeouts
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        if let Some(error) = &self.first_error {
            println!("   first error: {error}");
        }
        println!("   statuses  {}", statuses.join(", "));
        println!("   latency   {}", self.latency.line());
        if let Some(rate) = self.accepted_while_offered_per_sec() {
            println!(
                "   2xx while offered ({:.0} s): {rate:.0} req/s; 2xx per second {:?}",
                self.planned_s, self.accepted_by_second
            );
        }
        if self.offered_rate.is_some() {
            println!("   2xx (from send) {}", self.accepted_latency.line());
            println!("   send lag  {}", self.send_lag.line());
        }
        if self.rejected_latency.count > 0 {
            println!("   503 (from send) {}", self.rejected_latency.line());
        }
        if let Some(memory) = &self.memory {
            println!("   server RSS {}", memory.line());
        }
        if let Some(cpu) = self.cpu_us_per_accepted() {
            println!("   server CPU {cpu:.1} µs per 2xx");
        }
        if let Some(cpu) = self.postgres_us_per_accepted() {
            println!("   Postgres CPU {cpu:.1} µs per 2xx");
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

    /// Request number `seq`, signed now, addressed to this target.
    fn request(&self, signer: &Signer, seq: u64) -> anyhow::Result<hyper::Request<Full<Bytes>>> {
        let signed = signer.request(seq)?;
        let mut request = hyper::Request::post(self.path.as_str())
            .header(hyper::header::HOST, self.authority.as_str());
        for (name, value) in &signed.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        Ok(request.body(Full::new(Bytes::from(signed.body)))?)
    }
}

/// Runs `plan` with requests from `signer`, watching the server's memory when `watch` is given.
pub async fn run(
    plan: &LoadPlan,
    signer: Arc<Signer>,
    watch: Option<u32>,
) -> anyhow::Result<LoadReport> {
    let target = Arc::new(Target::parse(&plan.url)?);
    let shared = Arc::new(Mutex::new(Tally::new()));
    let opening = Instant::now();
    let connections = connect_all(&target, plan.connections, &shared).await?;
    let connect_s = opening.elapsed().as_secs_f64();
    let start = Instant::now();
    Tally::update(&shared, |tally| tally.start = start);
    let schedule = Arc::new(Schedule {
        next: AtomicU64::new(0),
        start,
        end: start + plan.duration,
        interval: plan.rate.map(|rate| Duration::from_secs_f64(1.0 / rate)),
    });
    let watcher = watch.map(crate::rss::RssWatch::start);
    let cpu_then = watch.map(cpu_secs).transpose()?;
    let postgres_then = postgres_cpu_secs()?;
    let metrics_then = plan.server_metrics.as_deref().map(scrape).transpose()?;
    let timeline = plan
        .server_metrics
        .as_deref()
        .map(|url| crate::server_timeline::Watch::start(url, start.into_std()))
        .transpose()?;
    let workers: Vec<_> = connections
        .into_iter()
        .map(|connection| {
            tokio::spawn(worker(
                Arc::clone(&target),
                Arc::clone(&schedule),
                Arc::clone(&signer),
                connection,
                Arc::clone(&shared),
                plan.wait_out_retry_after,
            ))
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_timeline = timeline.map(|watch| watch.finish()).transpose()?;
    let tally = Arc::into_inner(shared)
        .context("every worker has finished")?
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let server_latency = match (plan.server_metrics.as_deref(), metrics_then) {
        (Some(url), Some(then)) => crate::server_latency::between(&then, &scrape(url)?),
        _ => None,
    };
    let mut report = LoadReport {
        url: plan.url.clone(),
        connections: plan.connections,
        connect_s,
        duration_s: elapsed,
        planned_s: plan.duration.as_secs_f64(),
        offered_rate: plan.rate,
        waited_out_retry_after: plan.wait_out_retry_after,
        errors: tally.errors(),
        connect_errors: tally.connect_errors,
        timeouts: tally.timeouts,
        first_error: tally.first_error,
        latency: Percentiles::of(&tally.latency),
        accepted_latency: Percentiles::of(&tally.accepted),
        rejected_latency: Percentiles::of(&tally.rejected),
        send_lag: Percentiles::of(&tally.send_lag),
        statuses: tally.statuses,
        accepted_by_second: tally.accepted_by_second,
        memory: watcher.map(crate::rss::RssWatch::finish),
        server_cpu_secs: match (watch, cpu_then) {
            (Some(pid), Some(then)) => Some(cpu_secs(pid)? - then),
            _ => None,
        },
        postgres_cpu_secs: Some(postgres_cpu_secs()? - postgres_then),
        server_latency,
        server_timeline,
        ..LoadReport::default()
    };
    report.requests_per_sec = report.answered() as f64 / elapsed;
    report.accepted_per_sec = report.accepted() as f64 / elapsed;
    Ok(report)
}

/// Opens `count` connections at once before the clock starts, so that neither a connect storm
/// nor connect times are part of the run. A failed one is counted and left `None`: its worker
/// connects again before its first request.
async fn connect_all(
    target: &Arc<Target>,
    count: usize,
    tally: &Mutex<Tally>,
) -> anyhow::Result<Vec<Option<Sender>>> {
    let opening: Vec<_> = (0..count)
        .map(|_| {
            let target = Arc::clone(target);
            tokio::spawn(async move { connect(&target.authority).await })
        })
        .collect();
    let mut connections = Vec::with_capacity(count);
    for connection in opening {
        connections.push(match connection.await? {
            Ok(sender) => Some(sender),
            Err(err) => {
                Tally::update(tally, |t| t.fail(Failure::Connect, err));
                None
            }
        });
    }
    Ok(connections)
}

/// One connection's loop: take the next request, wait until it is due, send, record. Failures
/// are counted, never fatal: a failed connect or a broken connection costs that one request.
/// With `wait_out_retry_after`, a `503` + `Retry-After` holds the connection back that long.
async fn worker(
    target: Arc<Target>,
    schedule: Arc<Schedule>,
    signer: Arc<Signer>,
    mut connection: Option<Sender>,
    tally: Arc<Mutex<Tally>>,
    wait_out_retry_after: bool,
) -> anyhow::Result<()> {
    while let Some((seq, due)) = schedule.take() {
        // Connect (again) first, then wait: a request is due at its time, not a connect later.
        let sender = match ready(&mut connection, &target.authority).await {
            Ok(sender) => sender,
            Err(err) => {
                Tally::update(&tally, |t| t.fail(Failure::Connect, err));
                tokio::time::sleep(RECONNECT_PAUSE).await;
                continue;
            }
        };
        if let Some(due) = due {
            tokio::time::sleep_until(due.checked_sub(TIMER_TICK).unwrap_or(due)).await;
        }
        let request = target.request(&signer, seq)?;
        let sent = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, exchange(sender, request)).await;
        let done = Instant::now();
        match answer {
            Ok(Ok(answer)) => {
                Tally::update(&tally, |t| t.record(answer.status, due, sent, done));
                if let Some(wait) = answer.retry_after.filter(|_| wait_out_retry_after) {
                    tokio::time::sleep(wait).await;
                }
                if !answer.closes {
                    continue;
                }
            }
            Ok(Err(err)) => Tally::update(&tally, |t| t.fail(Failure::Broken, err)),
            Err(_) => Tally::update(&tally, |t| {
                t.fail(
                    Failure::Timeout,
                    format!("no answer in {REQUEST_TIMEOUT:?}"),
                )
            }),
        }
        connection = None;
    }
    Ok(())
}

/// The client half of one HTTP/1.1 connection.
type Sender = SendRequest<Full<Bytes>>;

/// The worker's connection, ready for a request: the kept one unless the server closed it (say
/// after answering `Connection: close`), else a new one.
async fn ready<'a>(
    slot: &'a mut Option<Sender>,
    authority: &str,
) -> anyhow::Result<&'a mut Sender> {
    let reusable = match slot.as_mut() {
        Some(sender) => sender.ready().await.is_ok(),
        None => false,
    };
    if !reusable {
        *slot = None;
        return Ok(slot.insert(connect(authority).await?));
    }
    Ok(slot.as_mut().expect("a reusable connection is there"))
}

/// Opens one HTTP/1.1 connection with Nagle off, ready for its first request.
async fn connect(authority: &str) -> anyhow::Result<Sender> {
    let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(authority))
        .await
        .map_err(|_| anyhow::anyhow!("no connection in {REQUEST_TIMEOUT:?}"))??;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    sender.ready().await?;
    Ok(sender)
}

/// What one exchange was answered with.
struct Answer {
    status: u16,
    /// The `Retry-After` of a `503`, in seconds.
    retry_after: Option<Duration>,
    /// The server said `Connection: close`: the next request goes on a new connection (a
    /// request sent before the connection is seen closed would be lost with it).
    closes: bool,
}

/// Sends one request and reads the whole answer.
async fn exchange(
    sender: &mut Sender,
    request: hyper::Request<Full<Bytes>>,
) -> anyhow::Result<Answer> {
    let response = sender.send_request(request).await?;
    let status = response.status();
    let retry_after = (status == hyper::StatusCode::SERVICE_UNAVAILABLE)
        .then(|| response.headers().get(hyper::header::RETRY_AFTER))
        .flatten()
        .and_then(|value| value.to_str().ok()?.trim().parse().ok())
        .map(Duration::from_secs);
    let closes = response
        .headers()
        .get(hyper::header::CONNECTION)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
    response.into_body().collect().await?;
    Ok(Answer {
        status: status.as_u16(),
        retry_after,
        closes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_count_answered_requests_only() {
        let report = LoadReport {
            statuses: BTreeMap::from([(202, 30), (503, 10)]),
            errors: 5,
            ..LoadReport::default()
        };
        assert_eq!(report.answered(), 40);
        assert_eq!(report.accepted(), 30);
        assert_eq!(report.share_pct(503), 25.0);
        assert_eq!(LoadReport::default().share_pct(503), 0.0);
    }
}
