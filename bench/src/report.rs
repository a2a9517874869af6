//! The final report: hookgate's figures as ratios of the machine's own ceilings, and against
//! the targets of the performance issue. Reads the JSON files the phases wrote into one
//! directory; phases that did not run are left out.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::ceiling_pg::PgCeiling;
use crate::drain::DrainReport;
use crate::load::LoadReport;
use crate::servers::SinkStats;

/// Phase file names in the results directory, as `bench/run` writes them.
pub mod files {
    pub const CEILING_HTTP: &str = "ceiling-http.json";
    pub const CEILING_PG: &str = "ceiling-pg.json";
    pub const INGEST: &str = "ingest.json";
    pub const SERVE: &str = "serve.json";
    pub const DRAIN: &str = "drain.json";
    pub const IDLE_LATENCY: &str = "idle-latency.json";
    pub const OVERLOAD: &str = "overload.json";
}

fn read<T: DeserializeOwned>(dir: &Path, name: &str) -> anyhow::Result<Option<T>> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(&std::fs::read(&path)?)?))
}

/// `hookgate X/s = NN% of <ceiling> (C/s)`.
fn ratio(what: &str, value: f64, ceiling_name: &str, ceiling: f64) {
    println!(
        "   {what} {value:>8.0}/s = {:>5.1}% of {ceiling_name} ({ceiling:.0}/s)",
        100.0 * value / ceiling
    );
}

/// One target line: what, the figure, the goal and whether it is met.
fn target(what: &str, figure: String, goal: &str, met: bool) {
    let verdict = if met { "met" } else { "NOT met" };
    println!("   {what:<34} {figure:>14}   goal {goal:<12} {verdict}");
}

/// Prints the summary of the results in `dir`.
pub fn print(dir: &Path) -> anyhow::Result<()> {
    let http: Option<LoadReport> = read(dir, files::CEILING_HTTP)?;
    let pg: Option<PgCeiling> = read(dir, files::CEILING_PG)?;
    let ingest: Option<LoadReport> = read(dir, files::INGEST)?;
    let serve: Option<LoadReport> = read(dir, files::SERVE)?;
    let drain: Option<DrainReport> = read(dir, files::DRAIN)?;
    let idle: Option<SinkStats> = read(dir, files::IDLE_LATENCY)?;
    let overload: Option<LoadReport> = read(dir, files::OVERLOAD)?;

    println!("== Summary: hookgate against this machine's ceilings");
    for (name, run) in [("ingest role", &ingest), ("full serve ", &serve)] {
        let Some(run) = run else { continue };
        let rate = run.accepted_per_sec;
        if let Some(http) = &http {
            ratio(name, rate, "bare actix-web 202", http.requests_per_sec);
        }
        if let Some(pg) = &pg {
            ratio(name, rate, "Postgres 50-row txns", pg.batched_rows_per_sec);
            ratio(name, rate, "Postgres 1-row txns", pg.single_rows_per_sec);
        }
    }

    if let Some(idle) = &idle {
        println!(
            "   send→delivered at light load ({} deliveries): {}",
            idle.received,
            idle.latency.line()
        );
    }
    println!("== Targets of the performance issue");
    if let Some(serve) = &serve {
        target(
            "end to end (serve, workers on)",
            format!("{:.0}/s", serve.accepted_per_sec),
            ">= 10000/s",
            serve.accepted_per_sec >= 10_000.0
                && drain.as_ref().is_some_and(|d| d.drain_secs.is_some()),
        );
    }
    if let Some(ingest) = &ingest {
        target(
            "ingest role",
            format!("{:.0}/s", ingest.accepted_per_sec),
            ">= 25000/s",
            ingest.accepted_per_sec >= 25_000.0,
        );
        if let Some(pg) = &pg {
            let share = 100.0 * ingest.accepted_per_sec / pg.batched_rows_per_sec;
            target(
                "ingest role / Postgres batched",
                format!("{share:.1}%"),
                ">= 40%",
                share >= 40.0,
            );
        }
        target(
            "ack p99 at 64 connections (ingest)",
            format!("{:.2} ms", ingest.latency.p99_ms),
            "< 15 ms",
            ingest.latency.p99_ms < 15.0,
        );
    }
    if let Some(serve) = &serve {
        target(
            "ack p99 at 64 connections (serve)",
            format!("{:.2} ms", serve.latency.p99_ms),
            "< 15 ms",
            serve.latency.p99_ms < 15.0,
        );
    }
    if let Some(idle) = &idle {
        target(
            "send→delivered p50, light load",
            format!("{:.2} ms", idle.latency.p50_ms),
            "< 5 ms",
            idle.latency.count > 0 && idle.latency.p50_ms < 5.0,
        );
    }
    let peak = [&ingest, &serve, &overload]
        .into_iter()
        .flatten()
        .filter_map(|run| run.memory)
        .map(|memory| memory.peak_hwm_mib.max(memory.max_rss_mib))
        .fold(None, |max: Option<f64>, mib| {
            Some(max.map_or(mib, |m| m.max(mib)))
        });
    if let Some(peak) = peak {
        target(
            "peak RSS (VmHWM)",
            format!("{peak:.1} MiB"),
            "< 150 MB",
            peak * 1.048_576 < 150.0,
        );
    }
    if let Some(overload) = &overload {
        let answered: u64 = overload.statuses.values().sum();
        let rejected = overload.statuses.get(&503).copied().unwrap_or(0);
        println!(
            "   overload at {:.0} req/s offered: {:.0}/s answered, {:.1}% 503 (p99 {:.2} ms from send), {} errors",
            overload.offered_rate.unwrap_or_default(),
            overload.requests_per_sec,
            100.0 * rejected as f64 / answered.max(1) as f64,
            overload.rejected_latency.p99_ms,
            overload.errors
        );
    }
    println!("   verification per request: see `cargo bench --bench verify` (goal < 3 µs / 1 KB)");
    Ok(())
}
