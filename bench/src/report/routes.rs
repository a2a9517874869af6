//! The routes phase (`BENCH_MODE=routes`): broker destinations against HTTP delivery, ingest
//! with a connection filter against without, and what a transform costs a delivery.

use std::path::Path;

use super::results::{Pooled, read, read_rounds};
use super::summary::drained_line;
use crate::brokers::Held;
use crate::db::Rows;
use crate::delivery_cpu::DeliveryRun;
use crate::load::LoadReport;
use crate::servers::SinkStats;
use crate::transform_cost::CallCost;

/// The destination kinds the phase can compare, in the order they are reported; each names
/// its files (`routes-delivery-KIND-N.json`, `routes-held-KIND-N.json`).
pub const KINDS: [&str; 4] = ["http", "redis-stream", "nats", "amqp"];

/// Ingest with the filter as a percentage of ingest without: the floor.
pub const FILTERED_MIN_PCT: f64 = 95.0;

/// One destination kind's drained queues and what its broker held after each.
pub struct KindRuns {
    pub kind: &'static str,
    pub runs: Vec<DeliveryRun>,
    pub held: Vec<Held>,
}

/// Every result of the routes phase; empty vectors for what did not run.
#[derive(Default)]
pub struct Routes {
    /// Kinds with at least one run, in [`KINDS`] order.
    pub kinds: Vec<KindRuns>,
    /// The ingest role, closed loop, without and with the connection filter, by round.
    pub ingest_plain: Vec<LoadReport>,
    pub ingest_filtered: Vec<LoadReport>,
    /// Events and deliveries after each filtered round.
    pub filtered_rows: Vec<Rows>,
    /// A worker draining the same queue without and with the connection's transform.
    pub transform_plain: Vec<DeliveryRun>,
    pub transform_reshaped: Vec<DeliveryRun>,
    /// What the sink saw of each run with the transform.
    pub reshaped_sink: Vec<SinkStats>,
    /// The filtered source's filters per event, in process.
    pub filter_cost: Option<CallCost>,
    /// QuickJS per call in process.
    pub quickjs: Option<CallCost>,
    /// QuickJS and Boa per call (`BENCH_ENGINES=1`).
    pub engines: Option<Vec<CallCost>>,
}

/// The ingest role's runs taken together: accepted/s and the server's CPU per accepted event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IngestPooled {
    pub per_sec: f64,
    /// `None` when a run was not watched.
    pub cpu_us_per_event: Option<f64>,
}

impl IngestPooled {
    pub fn of(runs: &[LoadReport]) -> Option<IngestPooled> {
        let accepted: u64 = runs.iter().map(LoadReport::accepted).sum();
        let secs: f64 = runs.iter().map(|run| run.duration_s).sum();
        let cpu: Option<f64> = runs.iter().map(|run| run.server_cpu_secs).sum();
        (accepted > 0 && secs > 0.0).then(|| IngestPooled {
            per_sec: accepted as f64 / secs,
            cpu_us_per_event: cpu.map(|cpu| 1e6 * cpu / accepted as f64),
        })
    }
}

impl Routes {
    pub fn read(dir: &Path) -> anyhow::Result<Routes> {
        let mut kinds = Vec::new();
        for kind in KINDS {
            let runs = read_rounds(dir, &format!("routes-delivery-{kind}-"))?;
            if !runs.is_empty() {
                let held = read_rounds(dir, &format!("routes-held-{kind}-"))?;
                kinds.push(KindRuns { kind, runs, held });
            }
        }
        Ok(Routes {
            kinds,
            ingest_plain: read_rounds(dir, "routes-ingest-plain-")?,
            ingest_filtered: read_rounds(dir, "routes-ingest-filtered-")?,
            filtered_rows: read_rounds(dir, "routes-rows-filtered-")?,
            transform_plain: read_rounds(dir, "routes-transform-plain-")?,
            transform_reshaped: read_rounds(dir, "routes-transform-reshaped-")?,
            reshaped_sink: read_rounds(dir, "routes-sink-reshaped-")?,
            filter_cost: read(dir, "routes-filter-cost.json")?,
            quickjs: read(dir, "routes-quickjs.json")?,
            engines: read(dir, "routes-engines.json")?,
        })
    }

    /// Ingest with the filter and without, each pooled over its rounds, when both ran.
    pub fn ingest(&self) -> Option<(IngestPooled, IngestPooled)> {
        Some((
            IngestPooled::of(&self.ingest_plain)?,
            IngestPooled::of(&self.ingest_filtered)?,
        ))
    }

    /// The filtered ingest rate as a percentage of the unfiltered one.
    pub fn filtered_pct(&self) -> Option<f64> {
        let (plain, filtered) = self.ingest()?;
        Some(100.0 * filtered.per_sec / plain.per_sec)
    }

    /// hookgate's CPU per delivery with the transform minus without, in microseconds.
    pub fn transform_cost_us(&self) -> Option<f64> {
        let plain = Pooled::of(&self.transform_plain)?;
        let reshaped = Pooled::of(&self.transform_reshaped)?;
        Some(reshaped.cpu_us_per_delivery - plain.cpu_us_per_delivery)
    }
}

/// Prints each part of the phase that ran.
pub fn print(routes: &Routes) {
    brokers(routes);
    filters(routes);
    transforms(routes);
}

fn brokers(routes: &Routes) {
    let Some(first) = routes.kinds.first() else {
        return;
    };
    println!(
        "== Routes: destination kinds, a worker draining a queue ({} rounds, alternating)",
        first.runs.len()
    );
    let http = routes
        .kinds
        .iter()
        .find(|kind| kind.kind == "http")
        .and_then(|kind| Pooled::of(&kind.runs));
    for kind in &routes.kinds {
        let messages: u64 = kind.held.iter().map(|held| held.messages).sum();
        let expected: u64 = kind.held.iter().map(|held| held.expected).sum();
        let mut note = match kind.held.is_empty() {
            true => String::new(),
            false => format!("; the broker held {messages} of {expected} queued"),
        };
        if let (Some(http), Some(pooled), false) =
            (http, Pooled::of(&kind.runs), kind.kind == "http")
        {
            note += &format!(
                "; {:.0}% of HTTP's rate, {:.0}% of its CPU",
                100.0 * pooled.per_sec / http.per_sec,
                100.0 * pooled.cpu_us_per_delivery / http.cpu_us_per_delivery
            );
        }
        drained_line(kind.kind, &kind.runs, &note);
    }
    for kind in KINDS {
        if !routes.kinds.iter().any(|ran| ran.kind == kind) {
            println!(
                "   {kind:<13} not run (see the log: not in BENCH_ROUTE_KINDS, unreachable, or refused)"
            );
        }
    }
}

fn filters(routes: &Routes) {
    let Some((plain, filtered)) = routes.ingest() else {
        return;
    };
    let connections = routes.ingest_plain[0].connections;
    println!(
        "== Routes: ingest role with a connection filter against without ({} rounds, closed loop at {connections} connections)",
        routes.ingest_plain.len()
    );
    let line = |name: &str, pooled: IngestPooled, runs: &[LoadReport]| {
        let cpu = pooled.cpu_us_per_event.map_or(String::new(), |cpu| {
            format!(", hookgate {cpu:.1} µs CPU per event")
        });
        let each: Vec<String> = runs
            .iter()
            .map(|run| match run.cpu_us_per_accepted() {
                Some(cpu) => format!("{:.0}/s {cpu:.1} µs", run.accepted_per_sec),
                None => format!("{:.0}/s", run.accepted_per_sec),
            })
            .collect();
        println!(
            "   {name:<10} {:>6.0} accepted/s{cpu} (runs: {})",
            pooled.per_sec,
            each.join(", ")
        );
    };
    line("no filter", plain, &routes.ingest_plain);
    line("filter", filtered, &routes.ingest_filtered);
    let cpu = match (plain.cpu_us_per_event, filtered.cpu_us_per_event) {
        (Some(plain), Some(filtered)) => {
            format!(", {:.1}% of its CPU per event", 100.0 * filtered / plain)
        }
        _ => String::new(),
    };
    println!(
        "   filter: {:.1}% of the unfiltered rate{cpu}",
        100.0 * filtered.per_sec / plain.per_sec
    );
    let (events, deliveries) = routes.filtered_rows.iter().fold((0, 0), |(e, d), rows| {
        (e + rows.events, d + rows.deliveries)
    });
    if !routes.filtered_rows.is_empty() {
        let verdict = match events == deliveries {
            true => "every event passed the filter",
            false => "WARNING: not every event passed the filter",
        };
        println!("   {deliveries} deliveries for {events} filtered events stored: {verdict}");
    }
    if let Some(cost) = &routes.filter_cost {
        println!(
            "   in process: {} cost {:.2} µs per event ({} calls, {} bytes of body)",
            cost.what,
            cost.us_per_call(),
            cost.calls,
            cost.input_bytes
        );
    }
}

fn transforms(routes: &Routes) {
    if let Some(cost) = routes.transform_cost_us() {
        println!(
            "== Routes: transform at delivery, a worker draining the same queue without and with `transform = \"reshape\"` ({} rounds)",
            routes.transform_plain.len()
        );
        drained_line("no transform", &routes.transform_plain, "");
        let (received, reshaped) = routes.reshaped_sink.iter().fold((0, 0), |(r, s), sink| {
            (r + sink.received, s + sink.reshaped)
        });
        let note = format!("; the sink saw {reshaped} of {received} reshaped");
        drained_line("transform", &routes.transform_reshaped, &note);
        println!("   the transform costs {cost:.1} µs of hookgate's CPU per delivery");
    }
    let costs = routes.engines.as_deref().unwrap_or_default();
    let quickjs = (costs.is_empty())
        .then_some(())
        .and(routes.quickjs.as_ref());
    for cost in costs.iter().chain(quickjs) {
        println!(
            "   {}: {:.1} µs per call in process ({} calls, {} bytes of event)",
            cost.what,
            cost.us_per_call(),
            cost.calls,
            cost.input_bytes
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(accepted: u64, secs: f64, cpu: Option<f64>) -> LoadReport {
        LoadReport {
            duration_s: secs,
            statuses: [(202, accepted)].into(),
            server_cpu_secs: cpu,
            ..LoadReport::default()
        }
    }

    fn drained(delivered: u64, secs: f64, cpu_secs: f64) -> DeliveryRun {
        DeliveryRun {
            label: String::new(),
            delivered,
            secs,
            cpu_secs,
            postgres_cpu_secs: 0.0,
            left: 0,
        }
    }

    #[test]
    fn filtered_ingest_is_compared_pooled_over_rounds() {
        let mut routes = Routes {
            ingest_plain: vec![
                ingest(100_000, 10.0, Some(4.0)),
                ingest(100_000, 10.0, Some(4.0)),
            ],
            ..Routes::default()
        };
        assert_eq!(routes.filtered_pct(), None);
        routes.ingest_filtered = vec![ingest(95_000, 10.0, Some(4.0)), ingest(95_000, 10.0, None)];
        let (plain, filtered) = routes.ingest().unwrap();
        assert_eq!(plain.per_sec, 10_000.0);
        assert_eq!(plain.cpu_us_per_event, Some(40.0));
        assert_eq!(filtered.cpu_us_per_event, None, "a run without CPU figures");
        assert!((routes.filtered_pct().unwrap() - 95.0).abs() < 1e-9);
    }

    #[test]
    fn kinds_are_read_by_name_in_their_order_and_missing_ones_left_out() {
        let dir =
            std::env::temp_dir().join(format!("hookgate-bench-routes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, json: String| std::fs::write(dir.join(name), json).unwrap();
        let run = |delivered| serde_json::to_string(&drained(delivered, 1.0, 0.1)).unwrap();
        write("routes-delivery-nats-1.json", run(10));
        write("routes-delivery-nats-2.json", run(20));
        write("routes-delivery-http-1.json", run(30));
        let held = Held {
            kind: crate::brokers::Kind::Nats,
            messages: 10,
            expected: 10,
        };
        write(
            "routes-held-nats-1.json",
            serde_json::to_string(&held).unwrap(),
        );
        let routes = Routes::read(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let kinds: Vec<(&str, usize, usize)> = routes
            .kinds
            .iter()
            .map(|kind| (kind.kind, kind.runs.len(), kind.held.len()))
            .collect();
        assert_eq!(kinds, [("http", 1, 0), ("nats", 2, 1)]);
        assert_eq!(routes.kinds[1].runs[1].delivered, 20, "rounds in order");
    }

    #[test]
    fn the_transform_costs_the_difference_in_cpu_per_delivery() {
        let routes = Routes {
            transform_plain: vec![drained(20_000, 2.0, 1.0)],
            transform_reshaped: vec![drained(20_000, 3.0, 1.3)],
            ..Routes::default()
        };
        assert!((routes.transform_cost_us().unwrap() - 15.0).abs() < 1e-9);
    }
}
