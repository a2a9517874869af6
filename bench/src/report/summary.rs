//! The summary: hookgate's rates as ratios of the ceilings, then the figures of the latency,
//! failing-destination and overload phases.

use super::results::{ADMISSION_WAIT_SECS, Pooled, Results};
use crate::delivery_cpu::DeliveryRun;
use crate::latency::Percentiles;
use crate::load::LoadReport;
use crate::servers::SinkStats;

/// Prints every section whose phases ran.
pub fn print(results: &Results) {
    ceilings(results);
    latency(results);
    failing(results);
    overload(results);
    delivery_by_scheme(results);
}

/// `hookgate X/s = NN% of <ceiling> (C/s)`.
fn ratio(what: &str, value: f64, ceiling_name: &str, ceiling: f64) {
    println!(
        "   {what} {value:>8.0}/s = {:>5.1}% of {ceiling_name} ({ceiling:.0}/s)",
        100.0 * value / ceiling
    );
}

fn ceilings(results: &Results) {
    if results.ingest.is_none() && results.serve.is_none() {
        return;
    }
    println!("== Summary: hookgate against this machine's ceilings");
    for (name, run) in [
        ("ingest role", &results.ingest),
        ("full serve ", &results.serve),
    ] {
        let Some(run) = run else { continue };
        let rate = run.accepted_per_sec;
        if let Some(http) = &results.http_ceiling {
            ratio(name, rate, "bare actix-web 202", http.requests_per_sec);
        }
        if let Some(pg) = &results.pg_ceiling {
            ratio(name, rate, "Postgres 50-row txns", pg.batched_rows_per_sec);
            ratio(name, rate, "Postgres 1-row txns", pg.single_rows_per_sec);
            if pg.hookgate_schema_events_per_sec > 0.0 {
                ratio(
                    name,
                    rate,
                    "hookgate's insert, 50 per commit",
                    pg.hookgate_schema_events_per_sec,
                );
            }
        }
    }
}

/// `   <what>: p50 … (n=…)`, the percentiles on a line of their own.
fn percentiles(what: &str, percentiles: &Percentiles) {
    println!("   {what}:");
    println!("      {}", percentiles.line());
}

/// An open-loop run at a fraction of the closed-loop rate `closed`: the acknowledgement latency
/// from each request's intended send, and how late the driver sent.
fn open_loop(name: &str, run: &LoadReport, closed: Option<&LoadReport>) {
    let offered = run.offered_rate.unwrap_or_default();
    let fraction = closed
        .filter(|closed| closed.accepted_per_sec > 0.0)
        .map_or(String::new(), |closed| {
            format!(" = {:.2}× closed loop", offered / closed.accepted_per_sec)
        });
    percentiles(
        &format!(
            "ack, {name}, open loop at {offered:.0}/s{fraction}, {} connections, from intended send",
            run.connections
        ),
        &run.latency,
    );
    println!(
        "      {} errors; driver send lag p50 {:.2} ms, p99 {:.2} ms (timer; waits for a free connection)",
        run.errors, run.send_lag.p50_ms, run.send_lag.p99_ms
    );
}

/// Send→delivered latency as the sink measured it.
fn delivered(when: &str, sink: &SinkStats) {
    percentiles(
        &format!("send→delivered, {when} ({} deliveries)", sink.received),
        &sink.latency,
    );
}

fn latency(results: &Results) {
    let phases = [
        results.ingest_half.is_some(),
        results.serve_half.is_some(),
        results.serve_sink.is_some(),
        results.idle_sink.is_some(),
    ];
    if phases.contains(&true) {
        println!("== Latency");
    }
    if let Some(run) = &results.ingest_half {
        open_loop("ingest role", run, results.ingest.as_ref());
    }
    if let Some(run) = &results.http_half {
        open_loop(
            "bare actix-web (the driver's floor)",
            run,
            results.ingest.as_ref(),
        );
    }
    if let Some(run) = &results.serve_half {
        open_loop("full serve", run, results.serve.as_ref());
    }
    if let Some(sink) = &results.serve_sink {
        let connections = results.serve.as_ref().map_or(0, |serve| serve.connections);
        delivered(
            &format!("full serve, closed loop at {connections} connections"),
            sink,
        );
    }
    if let Some(sink) = &results.idle_sink {
        delivered("light load", sink);
    }
}

fn failing(results: &Results) {
    let Some(run) = &results.failing else { return };
    println!(
        "== Every destination failing: full serve, closed loop at {} connections",
        run.connections
    );
    let healthy = match (results.failing_pct(), &results.serve) {
        (Some(pct), Some(serve)) => format!(
            " = {pct:.1}% of the healthy full serve ({:.0}/s)",
            serve.accepted_per_sec
        ),
        _ => String::new(),
    };
    println!(
        "   {:.0}/s accepted{healthy}; ack p99 {:.2} ms; {} errors",
        run.accepted_per_sec, run.latency.p99_ms, run.errors
    );
    if let Some(sink) = &results.failing_sink {
        println!(
            "   the sink saw {} delivery attempts and failed {} (retries back off, the circuit opens)",
            sink.received, sink.failed
        );
    }
    if let Some(drain) = &results.failing_drain {
        println!(
            "   deliveries at load end: {} pending or in flight, {} delivered, {} dead",
            drain.backlog_at_load_end, drain.delivered, drain.dead
        );
    }
}

fn overload(results: &Results) {
    for run in &results.overload {
        overload_run(results, run);
    }
}

fn overload_run(results: &Results, run: &LoadReport) {
    let capacity = results.serve.as_ref().map(|serve| serve.accepted_per_sec);
    let offered = run.offered_rate.unwrap_or_default();
    let factor = capacity
        .filter(|capacity| *capacity > 0.0)
        .map_or(String::new(), |capacity| {
            format!(" ({:.1}× capacity)", offered / capacity)
        });
    let pressure = results
        .overload_pressure(run)
        .map_or(String::new(), |pressure| {
            format!(" = {pressure:.1}× capacity × {ADMISSION_WAIT_SECS} s")
        });
    let senders = if run.waited_out_retry_after {
        "senders wait out Retry-After"
    } else {
        "senders send again at once after a 503"
    };
    println!(
        "== Overload: open loop at {offered:.0} req/s{factor}, {} connections{pressure}; {senders}",
        run.connections
    );
    if results.overload_pressure(run).is_some_and(|p| p < 1.0) {
        println!(
            "   WARNING: too few connections for the server to ever hold {ADMISSION_WAIT_SECS} s of work: \
             raise BENCH_OVERLOAD_CONNECTIONS"
        );
    }
    if let (Some(rate), Some(pct)) = (
        run.accepted_while_offered_per_sec(),
        results.goodput_pct(run),
    ) {
        println!(
            "   2xx while offered ({:.0} s): {rate:.0}/s = {pct:.0}% of the sustainable rate; by second {:?}",
            run.planned_s, run.accepted_by_second
        );
    }
    if let Some(timeline) = &run.server_timeline {
        let caught_up = results.caught_up_pct(run).map_or_else(
            || "never caught up".to_owned(),
            |(seconds, pct)| {
                format!("caught up after {seconds} s: accepted and delivered {pct:.0}% of the sustainable rate")
            },
        );
        println!(
            "   hookgate {caught_up}; accepted by second {:?}, delivered {:?}",
            timeline.accepted, timeline.delivered
        );
    }
    let whole_run = results
        .whole_run_pct(run)
        .map_or(String::new(), |pct| format!(" = {pct:.0}%"));
    println!(
        "   whole run ({:.1} s, to the last answer or timeout): {:.0}/s answered, {:.0}/s 2xx{whole_run}, \
         {:.1}% 503, {} errors ({} connect, {} timeouts)",
        run.duration_s,
        run.requests_per_sec,
        run.accepted_per_sec,
        run.share_pct(503),
        run.errors,
        run.connect_errors,
        run.timeouts
    );
    if let Some(error) = &run.first_error {
        println!("   first error: {error}");
    }
    if let Some(server) = &run.server_latency {
        println!("   as hookgate timed them {}", server.line());
    }
    println!("   503 from send      {}", run.rejected_latency.line());
    println!("   2xx from send      {}", run.accepted_latency.line());
    println!("   from intended send {}", run.latency.line());
    if let Some(memory) = &run.memory {
        println!("   server RSS {}", memory.line());
    }
}

/// Drained queues of one kind: pooled, then each run, then `note`.
pub(super) fn drained_line(name: &str, runs: &[DeliveryRun], note: &str) {
    let Some(pooled) = Pooled::of(runs) else {
        return;
    };
    let each: Vec<String> = runs
        .iter()
        .map(|run| {
            format!(
                "{:.0}/s {:.1} + {:.1} µs",
                run.per_sec(),
                run.cpu_us_per_delivery(),
                run.postgres_us_per_delivery()
            )
        })
        .collect();
    println!(
        "   {name:<13} {:>6.0} deliveries/s, CPU per delivery hookgate {:>6.1} µs + Postgres {:>6.1} µs (runs: {}){note}",
        pooled.per_sec,
        pooled.cpu_us_per_delivery,
        pooled.postgres_us_per_delivery,
        each.join(", ")
    );
}

fn delivery_by_scheme(results: &Results) {
    let Some((http, https)) = results.delivery_by_scheme() else {
        return;
    };
    let delivered: u64 = results.delivery_http.iter().map(|run| run.delivered).sum();
    println!(
        "== Delivery alone, HTTP against HTTPS: a worker draining a queue, connections kept ({} rounds, {delivered} HTTP deliveries)",
        results.delivery_http.len()
    );
    drained_line("http", &results.delivery_http, "");
    drained_line("https", &results.delivery_https, "");
    println!(
        "   HTTPS: {:.1}% of HTTP's deliveries/s, {:.1}% of its CPU per delivery",
        100.0 * https.per_sec / http.per_sec,
        100.0 * https.cpu_us_per_delivery / http.cpu_us_per_delivery
    );
    let left: i64 = (results.delivery_http.iter())
        .chain(&results.delivery_https)
        .map(|run| run.left)
        .sum();
    if left > 0 {
        println!("   WARNING: {left} deliveries were left undelivered at a watch's timeout");
    }
}
