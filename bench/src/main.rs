//! `hookgate-bench`: measures hookgate against this machine's own limits. See bench/README.md.

mod brokers;
mod ceiling_pg;
mod cpu;
mod db;
mod delivery_cpu;
mod drain;
#[cfg(feature = "engines")]
mod engines;
mod filter_cost;
mod latency;
mod load;
mod payload;
mod pull;
mod queue_counts;
mod report;
mod rss;
mod scale;
mod server_latency;
mod server_timeline;
mod servers;
mod tls_certs;
mod transform_cost;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::load::{LoadPlan, LoadReport};
use crate::payload::Signer;

#[derive(Parser)]
#[command(version, about = "Load benchmark for hookgate")]
struct Cli {
    /// Threads of the load driver's runtime (the servers it measures need the other cores).
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive `POST /webhooks/{source}` with validly signed GitHub webhooks, each a new event.
    Load {
        /// Full URL of the source, e.g. http://127.0.0.1:18080/webhooks/gh.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        drive: DriveArgs,
        /// Sample this process's memory (the hookgate under test) during the run.
        #[arg(long)]
        watch_pid: Option<u32>,
    },
    /// The HTTP ceiling: a bare actix-web handler answering 202, driven the same way.
    CeilingHttp {
        #[command(flatten)]
        drive: DriveArgs,
        /// Worker threads of the bare server.
        #[arg(long, default_value_t = 2)]
        server_workers: usize,
    },
    /// The storage ceiling: Postgres inserting ~1 KB event rows, 50 and 1 per transaction.
    CeilingPg {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long, default_value_t = 4)]
        connections: usize,
        /// Seconds for each transaction size.
        #[arg(long, default_value_t = 5)]
        duration_secs: u64,
        #[arg(long, default_value_t = 1024)]
        body_bytes: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The fast local delivery sink: 200 to every POST, `GET /stats`, `POST /reset`,
    /// `POST /mode?status=N` (answer deliveries with N from now on, e.g. 500 to fail them all).
    Sink {
        #[arg(long, default_value = "127.0.0.1:18090")]
        listen: String,
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// The status deliveries are answered with at start.
        #[arg(long, default_value_t = 200)]
        status: u16,
        /// Serve HTTPS with this certificate (PEM, see `tls-certs`) ...
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// ... and this key.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Mint a private CA and the HTTPS sink's certificate into DIR: ca.pem, sink.crt, sink.key.
    TlsCerts { dir: PathBuf },
    /// Commit EVENTS events with one delivery each to DESTINATION, in one statement: a queue
    /// for a worker to drain (migrates the database first), ordered by KEYS keys or not.
    Seed {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        #[arg(long)]
        destination: String,
        /// The source the events came from: a connection of that source to DESTINATION
        /// decides whether a transform runs on them.
        #[arg(long, default_value = "gh")]
        source: String,
        #[arg(long, default_value_t = 1024)]
        body_bytes: usize,
        /// Bodies are GitHub pushes (JSON, see `payload::push_event`) instead of filler bytes.
        #[arg(long)]
        push_body: bool,
        /// Spread the deliveries over this many ordering keys, in turn (0: unordered); the
        /// destination must have `ordering`.
        #[arg(long, default_value_t = 0)]
        keys: usize,
    },
    /// Watch a seeded queue drain: deliveries/s and the CPU per delivery of hookgate (PID).
    WatchQueue {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// The hookgate process that delivers.
        #[arg(long)]
        pid: u32,
        /// What the destination is (http, https): names the run in the report.
        #[arg(long)]
        label: String,
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Watch `deliveries` while a load of `--load-secs` runs, then until the backlog drains.
    Drain {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        load_secs: u64,
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        /// hookgate's process: its CPU and Postgres's are measured until the backlog drained.
        #[arg(long)]
        pid: Option<u32>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Consume a pull destination as fast as the API allows (lease a batch, ack it) until its
    /// queue is empty; `watch-queue` measures the drain.
    PullConsumer {
        /// Base URL of hookgate's admin listener.
        #[arg(long)]
        admin_url: String,
        /// A consumer token of the destination.
        #[arg(long)]
        token: String,
        #[arg(long)]
        destination: String,
        /// Messages leased (and acked) at once.
        #[arg(long, default_value_t = 100)]
        batch: u32,
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
    },
    /// Make, count or delete the stream, subject or queue NAME a broker destination publishes
    /// to (a JetStream stream of subject NAME; a durable queue NAME bound to amq.direct with
    /// routing key NAME; a Redis stream NAME).
    Broker {
        action: brokers::Action,
        #[arg(long)]
        kind: brokers::Kind,
        /// The broker, as the destination's `url`.
        #[arg(long)]
        url: String,
        #[arg(long)]
        name: String,
        /// With `count`: how many deliveries were queued for it, for the report.
        #[arg(long, default_value_t = 0)]
        expect: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The on-disk size of hookgate's growing tables and their indexes.
    Sizes {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Names the moment in the report ("before retention").
        #[arg(long)]
        label: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run hookgate's retention purge (events older than DAYS) until done or SECS have passed.
    Purge {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        days: u32,
        #[arg(long, default_value_t = 3600)]
        secs: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fold every stored row into the stats rollup with hookgate's own fold, as its background
    /// rollup would have a minute later (between runs, with no hookgate running).
    FoldStats {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Count hookgate's events and deliveries: one delivery per event after a filtered ingest
    /// run means the filter passed them all.
    Rows {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A source's filters per event, in process: compiled from CONFIG, evaluated on the
    /// request the load sends (which they must pass).
    FilterCost {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        source: String,
        #[arg(long, default_value_t = 100_000)]
        calls: u64,
        #[command(flatten)]
        requests: RequestArgs,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// QuickJS per call, in hookgate's own sandbox: bench/transforms/reshape.js on the event
    /// the transform phase seeds.
    TransformCost {
        #[command(flatten)]
        calls: TransformCalls,
    },
    /// QuickJS (chosen) against Boa (rejected) per call, on the same script and event.
    #[cfg(feature = "engines")]
    TransformEngines {
        #[command(flatten)]
        calls: TransformCalls,
        /// Boa's calls (it is about ten times slower).
        #[arg(long, default_value_t = 2_000)]
        boa_calls: u64,
    },
    /// Print the summary of the phase results in DIR (ratios to the ceilings, targets).
    Report { dir: PathBuf },
    /// Create (or recreate) the database named in URL.
    DbCreate { url: String },
    /// Drop the database named in URL.
    DbDrop { url: String },
}

/// How the load driver runs; shared by `load` and `ceiling-http`.
#[derive(Args)]
struct DriveArgs {
    /// Connections, one per worker.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Open loop at this many requests per second (latency from each request's due time);
    /// closed loop without it.
    #[arg(long)]
    rate: Option<f64>,
    /// The server's `/metrics` (hookgate's admin listener), scraped before and after the run
    /// for the latency hookgate itself measured of every answer.
    #[arg(long)]
    server_metrics: Option<String>,
    /// A connection answered `503` with `Retry-After` waits that long before its next request,
    /// as a provider retries later rather than at once; without it, it sends its next due
    /// request at once.
    #[arg(long)]
    wait_out_retry_after: bool,
    #[command(flatten)]
    requests: RequestArgs,
    /// Also write the report as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The requests the load sends; shared by the drivers and `filter-cost`.
#[derive(Args)]
struct RequestArgs {
    /// The signing secret of the source.
    #[arg(long, default_value = "bench-secret")]
    secret: String,
    #[arg(long, default_value = "providers")]
    providers_dir: PathBuf,
    #[arg(long, default_value_t = 1024)]
    body_bytes: usize,
}

impl RequestArgs {
    fn signer(&self, url: &str) -> anyhow::Result<Signer> {
        Signer::new(&self.providers_dir, &self.secret, url, self.body_bytes)
    }
}

/// How a transform engine is measured; shared by `transform-cost` and `transform-engines`.
#[derive(Args)]
struct TransformCalls {
    /// Calls timed (after a warm-up).
    #[arg(long, default_value_t = 20_000)]
    calls: u64,
    /// Size of the seeded push event's body.
    #[arg(long, default_value_t = 1024)]
    body_bytes: usize,
    #[arg(long)]
    out: Option<PathBuf>,
}

impl DriveArgs {
    fn plan(&self, url: String) -> LoadPlan {
        LoadPlan {
            url,
            connections: self.connections,
            duration: Duration::from_secs(self.duration_secs),
            rate: self.rate,
            server_metrics: self.server_metrics.clone(),
            wait_out_retry_after: self.wait_out_retry_after,
        }
    }

    async fn run(&self, label: &str, url: String, watch: Option<u32>) -> anyhow::Result<()> {
        let report = self.load(url, watch).await?;
        self.report(label, &report)
    }

    /// Drives `url`, watching process `watch`.
    async fn load(&self, url: String, watch: Option<u32>) -> anyhow::Result<LoadReport> {
        let signer = self.requests.signer(&url)?;
        load::run(&self.plan(url), Arc::new(signer), watch).await
    }

    /// Prints `report` under `label` and writes it where `--out` says.
    fn report(&self, label: &str, report: &LoadReport) -> anyhow::Result<()> {
        report.print(label);
        write_json(self.out.as_deref(), report)
    }
}

fn write_json(out: Option<&Path>, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(path) = out {
        std::fs::write(path, serde_json::to_vec_pretty(value)?)?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Sink {
        listen,
        workers,
        status,
        tls_cert,
        tls_key,
    } = &cli.command
    {
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(tls_certs::server_config(cert, key)?),
            _ => None,
        };
        return Ok(servers::run_sink(listen, *workers, *status, tls)?);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?
        .block_on(run(cli.command))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Load {
            url,
            drive,
            watch_pid,
        } => drive.run("hookgate", url, watch_pid).await,
        Command::CeilingHttp {
            drive,
            server_workers,
        } => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let url = format!("http://{}/webhooks/ceiling", listener.local_addr()?);
            servers::spawn_ceiling(listener, server_workers);
            // The bare server runs on this process's actix threads: its CPU is theirs.
            let server_then = cpu::own_threads_cpu_secs(cpu::ACTIX_SERVER_THREADS)?;
            let mut report = drive.load(url, None).await?;
            report.server_cpu_secs =
                Some(cpu::own_threads_cpu_secs(cpu::ACTIX_SERVER_THREADS)? - server_then);
            drive.report("HTTP ceiling (bare actix-web 202)", &report)
        }
        Command::CeilingPg {
            database_url,
            connections,
            duration_secs,
            body_bytes,
            out,
        } => {
            let duration = Duration::from_secs(duration_secs);
            let ceiling =
                ceiling_pg::measure(&database_url, connections, duration, body_bytes).await?;
            ceiling.print();
            write_json(out.as_deref(), &ceiling)
        }
        Command::Drain {
            database_url,
            load_secs,
            timeout_secs,
            pid,
            out,
        } => {
            let load = Duration::from_secs(load_secs);
            let timeout = Duration::from_secs(timeout_secs);
            let report = drain::watch(&database_url, load, timeout, pid).await?;
            report.print();
            write_json(out.as_deref(), &report)
        }
        Command::TlsCerts { dir } => tls_certs::write(&dir),
        Command::Seed {
            database_url,
            events,
            destination,
            source,
            body_bytes,
            push_body,
            keys,
        } => {
            let body = match push_body {
                true => payload::push_event(body_bytes),
                false => vec![b'x'; body_bytes],
            };
            let seed = delivery_cpu::Seed {
                source: &source,
                destination: &destination,
                events,
                body: body.into(),
                keys,
            };
            delivery_cpu::seed(&database_url, seed).await
        }
        Command::WatchQueue {
            database_url,
            pid,
            label,
            timeout_secs,
            out,
        } => {
            let timeout = Duration::from_secs(timeout_secs);
            let run = delivery_cpu::watch(&database_url, pid, &label, timeout).await?;
            run.print();
            write_json(out.as_deref(), &run)
        }
        Command::PullConsumer {
            admin_url,
            token,
            destination,
            batch,
            timeout_secs,
        } => {
            let timeout = Duration::from_secs(timeout_secs);
            pull::consume(&admin_url, &token, &destination, batch, timeout).await
        }
        Command::Broker {
            action,
            kind,
            url,
            name,
            expect,
            out,
        } => {
            let messages = brokers::run(action, kind, &url, &name).await?;
            if let brokers::Action::Count = action {
                println!("== {kind:?} {name}: {messages} messages ({expect} deliveries queued)");
                let held = brokers::Held {
                    kind,
                    messages,
                    expected: expect,
                };
                write_json(out.as_deref(), &held)?;
            }
            Ok(())
        }
        Command::Sizes {
            database_url,
            label,
            out,
        } => {
            let sizes = scale::sizes(&database_url).await?;
            sizes.print(&label);
            write_json(out.as_deref(), &sizes)
        }
        Command::Purge {
            database_url,
            days,
            secs,
            out,
        } => {
            let report = scale::purge(&database_url, days, Duration::from_secs(secs)).await?;
            report.print();
            write_json(out.as_deref(), &report)
        }
        Command::FoldStats { database_url } => scale::fold_stats(&database_url).await,
        Command::Rows { database_url, out } => {
            let rows = db::rows(&database_url).await?;
            println!("== {} events, {} deliveries", rows.events, rows.deliveries);
            write_json(out.as_deref(), &rows)
        }
        Command::FilterCost {
            config,
            source,
            calls,
            requests,
            out,
        } => {
            let signer = requests.signer(&format!("http://127.0.0.1/webhooks/{source}"))?;
            let cost = filter_cost::measure(&config, &source, &signer, calls)?;
            cost.print();
            write_json(out.as_deref(), &cost)
        }
        Command::TransformCost { calls } => {
            let input = transform_cost::event_input(calls.body_bytes)?;
            let cost = transform_cost::quickjs(&input, calls.calls)?;
            cost.print();
            write_json(calls.out.as_deref(), &cost)
        }
        #[cfg(feature = "engines")]
        Command::TransformEngines { calls, boa_calls } => {
            let input = transform_cost::event_input(calls.body_bytes)?;
            let costs = [
                transform_cost::quickjs(&input, calls.calls)?,
                engines::boa(&input, boa_calls)?,
            ];
            costs.iter().for_each(transform_cost::CallCost::print);
            write_json(calls.out.as_deref(), &costs)
        }
        Command::Report { dir } => report::print(&dir),
        Command::DbCreate { url } => db::create(&url).await,
        Command::DbDrop { url } => db::drop(&url).await,
        Command::Sink { .. } => unreachable!("the sink runs on its own actix system"),
    }
}
