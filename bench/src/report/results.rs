//! The phase results of one results directory, and the figures derived from several of them.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::files;
use super::routes::Routes;
use super::scale::Scale;
use crate::ceiling_pg::PgCeiling;
use crate::delivery_cpu::DeliveryRun;
use crate::drain::DrainReport;
use crate::load::LoadReport;
use crate::servers::SinkStats;

/// The expected queue wait above which hookgate's admission control answers 503, in seconds.
/// A server can only hold capacity × this many requests before rejecting, so the overload
/// phase needs more connections than that for 503s to be possible at all.
pub const ADMISSION_WAIT_SECS: f64 = 0.25;

/// Every phase's result; `None` for a phase that did not run.
#[derive(Default)]
pub struct Results {
    pub http_ceiling: Option<LoadReport>,
    pub pg_ceiling: Option<PgCeiling>,
    /// `serve --role ingest`, closed loop.
    pub ingest: Option<LoadReport>,
    /// The ingest role, open loop at half the closed-loop rate.
    pub ingest_half: Option<LoadReport>,
    /// The bare actix-web handler at the same rate and connections as `ingest_half`.
    pub http_half: Option<LoadReport>,
    /// Full serve, closed loop, healthy sink.
    pub serve: Option<LoadReport>,
    pub drain: Option<DrainReport>,
    /// What the sink saw of the full-serve closed-loop phase.
    pub serve_sink: Option<SinkStats>,
    /// Full serve, open loop at half the closed-loop rate.
    pub serve_half: Option<LoadReport>,
    /// What the sink saw of the light-load phase.
    pub idle_sink: Option<SinkStats>,
    /// Full serve, closed loop, every delivery failing.
    pub failing: Option<LoadReport>,
    /// What the sink saw of that phase.
    pub failing_sink: Option<SinkStats>,
    /// The `deliveries` table at the end of that phase.
    pub failing_drain: Option<DrainReport>,
    /// Full serve, open loop at several times capacity, by factor.
    pub overload: Vec<LoadReport>,
    /// Queues drained to the sink over plain HTTP, one per round.
    pub delivery_http: Vec<DeliveryRun>,
    /// The same over HTTPS.
    pub delivery_https: Vec<DeliveryRun>,
    /// The routes phase.
    pub routes: Routes,
    /// The scale phase.
    pub scale: Scale,
}

/// Several drained queues taken together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pooled {
    /// Deliveries per second over all the runs.
    pub per_sec: f64,
    /// hookgate's CPU per delivery over all the runs, in microseconds.
    pub cpu_us_per_delivery: f64,
    /// Postgres's CPU per delivery over all the runs, in microseconds.
    pub postgres_us_per_delivery: f64,
}

impl Pooled {
    /// `runs` together; `None` without a delivery.
    pub fn of(runs: &[DeliveryRun]) -> Option<Pooled> {
        let delivered: u64 = runs.iter().map(|run| run.delivered).sum();
        let secs: f64 = runs.iter().map(|run| run.secs).sum();
        let cpu_secs: f64 = runs.iter().map(|run| run.cpu_secs).sum();
        let postgres_secs: f64 = runs.iter().map(|run| run.postgres_cpu_secs).sum();
        (delivered > 0 && secs > 0.0).then(|| Pooled {
            per_sec: delivered as f64 / secs,
            cpu_us_per_delivery: 1e6 * cpu_secs / delivered as f64,
            postgres_us_per_delivery: 1e6 * postgres_secs / delivered as f64,
        })
    }
}

/// Every phase file of `dir` whose name is `prefix` + a round number + `.json`, by round.
pub(super) fn read_rounds<T: DeserializeOwned>(dir: &Path, prefix: &str) -> anyhow::Result<Vec<T>> {
    let mut names: Vec<(u32, String)> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| {
            let round = name
                .strip_prefix(prefix)?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((round, name))
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|(_, name)| read(dir, &name).transpose())
        .collect()
}

/// One phase file of `dir`, `None` when it is not there.
pub(super) fn read<T: DeserializeOwned>(dir: &Path, name: &str) -> anyhow::Result<Option<T>> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path)?;
    let value = serde_json::from_slice(&bytes)
        .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    Ok(Some(value))
}

impl Results {
    /// Reads every phase file of `dir`.
    pub fn read(dir: &Path) -> anyhow::Result<Results> {
        Ok(Results {
            http_ceiling: read(dir, files::CEILING_HTTP)?,
            pg_ceiling: read(dir, files::CEILING_PG)?,
            ingest: read(dir, files::INGEST)?,
            ingest_half: read(dir, files::INGEST_HALF)?,
            http_half: read(dir, files::CEILING_HTTP_HALF)?,
            serve: read(dir, files::SERVE)?,
            drain: read(dir, files::DRAIN)?,
            serve_sink: read(dir, files::SERVE_LATENCY)?,
            serve_half: read(dir, files::SERVE_HALF)?,
            idle_sink: read(dir, files::IDLE_LATENCY)?,
            failing: read(dir, files::FAILING)?,
            failing_sink: read(dir, files::FAILING_SINK)?,
            failing_drain: read(dir, files::FAILING_DRAIN)?,
            overload: read_rounds(dir, files::OVERLOAD)?,
            delivery_http: read_rounds(dir, files::DELIVERY_HTTP)?,
            delivery_https: read_rounds(dir, files::DELIVERY_HTTPS)?,
            routes: Routes::read(dir)?,
            scale: Scale::read(dir)?,
        })
    }

    /// Delivery over HTTP and over HTTPS, each pooled over its rounds, when both ran.
    pub fn delivery_by_scheme(&self) -> Option<(Pooled, Pooled)> {
        Some((
            Pooled::of(&self.delivery_http)?,
            Pooled::of(&self.delivery_https)?,
        ))
    }

    /// hookgate's CPU per delivery over HTTPS as a percentage of that over HTTP.
    pub fn https_cpu_pct(&self) -> Option<f64> {
        let (http, https) = self.delivery_by_scheme()?;
        Some(100.0 * https.cpu_us_per_delivery / http.cpu_us_per_delivery)
    }

    /// The accepted rate with every destination failing, as a percentage of the healthy full
    /// serve's.
    pub fn failing_pct(&self) -> Option<f64> {
        let (failing, serve) = (self.failing.as_ref()?, self.serve.as_ref()?);
        (serve.accepted_per_sec > 0.0)
            .then(|| 100.0 * failing.accepted_per_sec / serve.accepted_per_sec)
    }

    /// An overload phase's connections over capacity × [`ADMISSION_WAIT_SECS`], capacity being
    /// the healthy full-serve rate: above 1, the server can see more queued than it admits.
    pub fn overload_pressure(&self, overload: &LoadReport) -> Option<f64> {
        let queueable = self.serve.as_ref()?.accepted_per_sec * ADMISSION_WAIT_SECS;
        (queueable > 0.0).then(|| overload.connections as f64 / queueable)
    }

    /// A rate as a percentage of the sustainable one (the healthy full-serve closed loop).
    fn of_sustainable_pct(&self, rate: f64) -> Option<f64> {
        let sustainable = self.serve.as_ref()?.accepted_per_sec;
        (sustainable > 0.0).then(|| 100.0 * rate / sustainable)
    }

    /// An overload phase's goodput: its 2xx answers per second while the load was offered, as
    /// a percentage of the sustainable rate.
    pub fn goodput_pct(&self, overload: &LoadReport) -> Option<f64> {
        self.of_sustainable_pct(overload.accepted_while_offered_per_sec()?)
    }

    /// An overload phase's events accepted and delivered per second until hookgate had
    /// delivered everything it accepted (its seconds to get there first), as a percentage of
    /// the sustainable rate: goodput that cannot be had by deferring deliveries.
    pub fn caught_up_pct(&self, overload: &LoadReport) -> Option<(usize, f64)> {
        let offered_s = overload.planned_s.floor() as usize;
        let (seconds, rate) = overload.server_timeline.as_ref()?.caught_up(offered_s)?;
        Some((seconds, self.of_sustainable_pct(rate)?))
    }

    /// An overload phase's 2xx per second of the driver's whole run, to its last answer or
    /// timeout, as a percentage of the sustainable rate (the figure reported before the
    /// timelines: it counts the seconds the driver waits on connects that time out).
    pub fn whole_run_pct(&self, overload: &LoadReport) -> Option<f64> {
        self.of_sustainable_pct(overload.accepted_per_sec)
    }

    /// The phases at up to the maximum rate (everything but the overload).
    fn load_phases(&self) -> impl Iterator<Item = &LoadReport> {
        [
            &self.ingest,
            &self.ingest_half,
            &self.serve,
            &self.serve_half,
            &self.failing,
        ]
        .into_iter()
        .flatten()
    }

    /// The largest resident set a watched hookgate reached at up to the maximum rate (the
    /// overload phase reports its own), in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        self.load_phases()
            .filter_map(|run| run.memory)
            .map(|memory| memory.peak_hwm_mib.max(memory.max_rss_mib))
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rss::Memory;
    use crate::server_timeline::ServerTimeline;

    fn rate(accepted_per_sec: f64, connections: usize) -> Option<LoadReport> {
        Some(LoadReport {
            accepted_per_sec,
            connections,
            ..LoadReport::default()
        })
    }

    /// An overload run offered for 2 s: 2xx answers by second, hookgate's counters by second.
    fn overload_run() -> LoadReport {
        LoadReport {
            connections: 5_000,
            offered_rate: Some(50_000.0),
            planned_s: 2.0,
            accepted_per_sec: 2_000.0,
            accepted_by_second: vec![11_000, 12_000, 1_000],
            server_timeline: Some(ServerTimeline {
                accepted: vec![11_000, 23_000, 24_000, 24_000],
                delivered: vec![8_000, 16_000, 22_000, 24_000],
            }),
            ..LoadReport::default()
        }
    }

    #[test]
    fn derived_figures_need_both_phases() {
        let mut results = Results {
            serve: rate(10_000.0, 64),
            ..Results::default()
        };
        let overload = overload_run();
        assert_eq!(results.failing_pct(), None);
        assert_eq!(Results::default().overload_pressure(&overload), None);
        assert_eq!(Results::default().goodput_pct(&overload), None);
        results.failing = rate(9_500.0, 64);
        assert_eq!(results.failing_pct(), Some(95.0));
        assert_eq!(results.overload_pressure(&overload), Some(2.0));
        // 23,000 2xx in the 2 s offered.
        assert_eq!(results.goodput_pct(&overload), Some(115.0));
        // Everything accepted delivered by the end of the fourth second: 24,000 in 4 s.
        assert_eq!(results.caught_up_pct(&overload), Some((4, 60.0)));
        assert_eq!(results.whole_run_pct(&overload), Some(20.0));
    }

    #[test]
    fn peak_rss_is_the_largest_of_every_phase_but_the_overload() {
        let memory = |mib| Memory {
            max_rss_mib: mib,
            end_rss_mib: mib,
            peak_hwm_mib: mib,
        };
        let mut results = Results::default();
        assert_eq!(results.peak_rss_mib(), None);
        results.ingest = Some(LoadReport {
            memory: Some(memory(20.0)),
            ..LoadReport::default()
        });
        results.failing = Some(LoadReport {
            memory: Some(memory(30.0)),
            ..LoadReport::default()
        });
        assert_eq!(results.peak_rss_mib(), Some(30.0));
        results.overload = vec![LoadReport {
            memory: Some(memory(300.0)),
            ..LoadReport::default()
        }];
        assert_eq!(results.peak_rss_mib(), Some(30.0));
    }

    #[test]
    fn delivery_runs_are_pooled_per_scheme_and_compared() {
        let run = |delivered, secs, cpu_secs| DeliveryRun {
            label: String::new(),
            delivered,
            secs,
            cpu_secs,
            postgres_cpu_secs: 0.0,
            left: 0,
        };
        let mut results = Results {
            delivery_http: vec![run(10_000, 2.0, 1.0), run(10_000, 2.0, 1.0)],
            ..Results::default()
        };
        assert_eq!(results.https_cpu_pct(), None);
        results.delivery_https = vec![run(10_000, 3.0, 1.0), run(10_000, 2.0, 1.4)];
        let (http, https) = results.delivery_by_scheme().unwrap();
        assert_eq!(http.per_sec, 5_000.0);
        assert_eq!(https.per_sec, 4_000.0);
        assert!((https.cpu_us_per_delivery - 120.0).abs() < 1e-9);
        assert!((results.https_cpu_pct().unwrap() - 120.0).abs() < 1e-9);
    }

    #[test]
    fn files_from_before_the_new_fields_still_read() {
        let dir = std::env::temp_dir().join(format!("hookgate-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let percentiles = r#"{"count":0,"p50_ms":0,"p90_ms":0,"p99_ms":0,"p999_ms":0,"max_ms":0}"#;
        let load = format!(
            r#"{{"url":"u","connections":64,"duration_s":1,"offered_rate":null,"requests_per_sec":1,
               "accepted_per_sec":1,"statuses":{{"202":1}},"errors":0,"latency":{percentiles},
               "accepted_latency":{percentiles},"rejected_latency":{percentiles},"memory":null}}"#
        );
        std::fs::write(dir.join(files::SERVE), load).unwrap();
        let sink = format!(r#"{{"received":3,"latency":{percentiles}}}"#);
        std::fs::write(dir.join(files::IDLE_LATENCY), sink).unwrap();
        let results = Results::read(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(results.serve.unwrap().connect_errors, 0);
        assert_eq!(results.idle_sink.unwrap().failed, 0);
        assert!(results.overload.is_empty());
    }
}
