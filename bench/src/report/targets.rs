//! The targets of the performance issue: each with its figure, its goal and whether it is met.

use super::cpu::CpuPerEvent;
use super::results::Results;
use super::routes::FILTERED_MIN_PCT;
use super::scale::{LARGE_MAX_CPU_PCT, LARGE_MIN_PCT, PURGING_MIN_PCT};
use crate::latency::Percentiles;

/// Ack p99 at half the maximum rate, open loop, from each request's intended send.
const ACK_HALF_RATE_P99_MS: f64 = 5.0;
/// Ack p99 at 64 connections, closed loop.
const ACK_P99_MS: f64 = 15.0;
/// Send→delivered p50 at light load.
const LIGHT_DELIVERED_P50_MS: f64 = 5.0;
/// Send→delivered p99 of the full-serve closed-loop phase.
const DELIVERED_P99_MS: f64 = 50.0;
/// The accepted rate with every destination failing, as a percentage of the healthy one.
const FAILING_MIN_PCT: f64 = 90.0;
/// 2xx under overload as a percentage of the sustainable rate (the healthy full serve).
const GOODPUT_MIN_PCT: f64 = 90.0;
/// The p99 of every answer under overload as hookgate timed it; the histogram's bucket bound,
/// so "at most 250 ms".
const SERVER_P99_MS: f64 = 250.0;
/// hookgate's CPU per delivery over HTTPS (connections reused), as a percentage of HTTP's.
const HTTPS_MAX_CPU_PCT: f64 = 115.0;
/// hookgate + Postgres CPU per accepted event (ingest role) as a multiple of the floor.
const INGEST_MAX_FLOORS: f64 = 1.8;
/// hookgate + Postgres CPU per delivered event (full serve, ingest to delivered) likewise.
const SERVE_MAX_FLOORS: f64 = 3.0;
/// Full serve's sustained delivery rate as a percentage of the ingest role's rate.
const SERVE_MIN_PCT_OF_INGEST: f64 = 75.0;

/// One target line: what, the figure, the goal and whether it is met.
fn target(what: &str, figure: String, goal: &str, met: bool) {
    let verdict = if met { "met" } else { "NOT met" };
    println!("   {what:<38} {figure:>14}   goal {goal:<12} {verdict}");
}

/// A latency target on the p99 of `percentiles`; not met without samples.
fn p99_below(what: &str, percentiles: &Percentiles, goal_ms: f64) {
    let figure = match percentiles.count {
        0 => "no samples".to_string(),
        _ => format!("{:.2} ms", percentiles.p99_ms),
    };
    target(
        what,
        figure,
        &format!("< {goal_ms} ms"),
        percentiles.count > 0 && percentiles.p99_ms < goal_ms,
    );
}

/// Prints every target whose phases ran.
pub fn print(results: &Results) {
    println!("== Targets of the performance issue");
    throughput(results);
    cost(results);
    acknowledgement(results);
    delivery_latency(results);
    resilience(results);
    if let Some(pct) = results.https_cpu_pct() {
        target(
            "CPU per delivery, HTTPS / HTTP",
            format!("{pct:.1}%"),
            &format!("<= {HTTPS_MAX_CPU_PCT}%"),
            pct <= HTTPS_MAX_CPU_PCT,
        );
    }
    if let Some(pct) = results.routes.filtered_pct() {
        target(
            "ingest with a filter / without",
            format!("{pct:.1}%"),
            &format!(">= {FILTERED_MIN_PCT}%"),
            pct >= FILTERED_MIN_PCT,
        );
    }
    scale(results);
    println!("   verification per request: see `cargo bench --bench verify` (goal < 3 µs / 1 KB)");
}

fn throughput(results: &Results) {
    if let Some(serve) = &results.serve {
        target(
            "end to end (serve, workers on)",
            format!("{:.0}/s", serve.accepted_per_sec),
            ">= 10000/s",
            serve.accepted_per_sec >= 10_000.0
                && results
                    .drain
                    .as_ref()
                    .is_some_and(|d| d.drain_secs.is_some()),
        );
    }
    let Some(ingest) = &results.ingest else {
        return;
    };
    target(
        "ingest role",
        format!("{:.0}/s", ingest.accepted_per_sec),
        ">= 25000/s",
        ingest.accepted_per_sec >= 25_000.0,
    );
    if let Some(pg) = &results.pg_ceiling {
        let share = 100.0 * ingest.accepted_per_sec / pg.batched_rows_per_sec;
        target(
            "ingest role / Postgres batched",
            format!("{share:.1}%"),
            ">= 40%",
            share >= 40.0,
        );
    }
}

fn cost(results: &Results) {
    let Some(cpu) = CpuPerEvent::of(results) else {
        return;
    };
    for (what, ratio, goal) in [
        (
            "CPU per event, ingest role / floor",
            cpu.ingest_ratio(),
            INGEST_MAX_FLOORS,
        ),
        (
            "CPU per delivered event / floor",
            cpu.serve_ratio(),
            SERVE_MAX_FLOORS,
        ),
    ] {
        if let Some(ratio) = ratio {
            target(
                what,
                format!("{ratio:.2}×"),
                &format!("<= {goal}×"),
                ratio <= goal,
            );
        }
    }
    if let Some(pct) = cpu.serve_to_ingest_pct {
        target(
            "full serve delivered / ingest role",
            format!("{pct:.1}%"),
            &format!(">= {SERVE_MIN_PCT_OF_INGEST}%"),
            pct >= SERVE_MIN_PCT_OF_INGEST,
        );
    }
}

fn scale(results: &Results) {
    if let Some((empty, large)) = results.scale.empty_and_large() {
        let (rate, cpu) = large.against(&empty);
        target(
            "ingest, large database / empty",
            format!("{rate:.1}%"),
            &format!(">= {LARGE_MIN_PCT}%"),
            rate >= LARGE_MIN_PCT,
        );
        target(
            "CPU per event, large database / empty",
            format!("{cpu:.1}%"),
            &format!("<= {LARGE_MAX_CPU_PCT}%"),
            cpu <= LARGE_MAX_CPU_PCT,
        );
    }
    if let Some((rate, _)) = results.scale.purging_against_large() {
        target(
            "ingest while retention purges / not",
            format!("{rate:.1}%"),
            &format!(">= {PURGING_MIN_PCT}%"),
            rate >= PURGING_MIN_PCT,
        );
    }
}

fn acknowledgement(results: &Results) {
    if let Some(ingest) = &results.ingest {
        let what = format!("ack p99 at {} connections (ingest)", ingest.connections);
        p99_below(&what, &ingest.latency, ACK_P99_MS);
    }
    if let Some(serve) = &results.serve {
        let what = format!("ack p99 at {} connections (serve)", serve.connections);
        p99_below(&what, &serve.latency, ACK_P99_MS);
    }
    if let Some(run) = &results.ingest_half {
        p99_below(
            "ack p99 at half max rate (ingest)",
            &run.latency,
            ACK_HALF_RATE_P99_MS,
        );
    }
    if let Some(run) = &results.serve_half {
        p99_below(
            "ack p99 at half max rate (serve)",
            &run.latency,
            ACK_HALF_RATE_P99_MS,
        );
    }
}

fn delivery_latency(results: &Results) {
    if let Some(sink) = &results.idle_sink {
        target(
            "send→delivered p50, light load",
            format!("{:.2} ms", sink.latency.p50_ms),
            &format!("< {LIGHT_DELIVERED_P50_MS} ms"),
            sink.latency.count > 0 && sink.latency.p50_ms < LIGHT_DELIVERED_P50_MS,
        );
    }
    if let Some(sink) = &results.serve_sink {
        let connections = results.serve.as_ref().map_or(0, |serve| serve.connections);
        p99_below(
            &format!("send→delivered p99, {connections} connections"),
            &sink.latency,
            DELIVERED_P99_MS,
        );
    }
}

fn resilience(results: &Results) {
    if let Some(pct) = results.failing_pct() {
        target(
            "destinations failing / healthy serve",
            format!("{pct:.1}%"),
            &format!(">= {FAILING_MIN_PCT}%"),
            pct >= FAILING_MIN_PCT,
        );
    }
    if let Some(peak) = results.peak_rss_mib() {
        target(
            "peak RSS at max load (VmHWM)",
            format!("{peak:.1} MiB"),
            "< 150 MB",
            peak * 1.048_576 < 150.0,
        );
    }
    for overload in &results.overload {
        let factor = match (overload.offered_rate, &results.serve) {
            (Some(offered), Some(serve)) if serve.accepted_per_sec > 0.0 => {
                format!("{:.0}×", offered / serve.accepted_per_sec)
            }
            _ => "over capacity".to_owned(),
        };
        let share = overload.share_pct(503);
        target(
            &format!("503s under overload {factor}"),
            format!("{share:.1}%"),
            "> 0%",
            share > 0.0,
        );
        if let Some(goodput) = results.goodput_pct(overload) {
            target(
                &format!("2xx under overload {factor} / sustainable"),
                format!("{goodput:.1}%"),
                &format!(">= {GOODPUT_MIN_PCT}%"),
                goodput >= GOODPUT_MIN_PCT,
            );
        }
        if let Some((_, delivered)) = results.caught_up_pct(overload) {
            target(
                &format!("accepted+delivered, overload {factor} / sust."),
                format!("{delivered:.1}%"),
                &format!(">= {GOODPUT_MIN_PCT}%"),
                delivered >= GOODPUT_MIN_PCT,
            );
        }
        if let Some(server) = &overload.server_latency {
            target(
                &format!("server-timed p99, overload {factor}"),
                format!("<= {} ms", server.p99_le_s * 1000.0),
                &format!("< {SERVER_P99_MS} ms"),
                server.p99_le_s * 1000.0 <= SERVER_P99_MS,
            );
        }
        if let Some(memory) = &overload.memory {
            let peak = memory.peak_hwm_mib.max(memory.max_rss_mib);
            let connections = overload.connections;
            println!(
                "   peak RSS under overload {factor}: {peak:.1} MiB with {connections} connections"
            );
        }
    }
}
