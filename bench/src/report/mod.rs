//! The final report: hookgate's figures as ratios of the machine's own ceilings, each phase in
//! a line or two, and the targets of the performance issue with their verdicts. Reads the JSON
//! files the phases wrote into one directory; phases that did not run are left out.

mod cpu;
mod results;
mod routes;
mod scale;
mod summary;
mod targets;

use std::path::Path;

use results::Results;

/// Phase file names in the results directory, as `bench/run` writes them.
pub mod files {
    pub const CEILING_HTTP: &str = "ceiling-http.json";
    pub const CEILING_PG: &str = "ceiling-pg.json";
    /// `serve --role ingest`, closed loop.
    pub const INGEST: &str = "ingest.json";
    /// The ingest role, open loop at half the closed-loop rate.
    pub const INGEST_HALF: &str = "ingest-half.json";
    /// The bare actix-web handler driven like that phase: the instrument's own latency floor.
    pub const CEILING_HTTP_HALF: &str = "ceiling-http-half.json";
    /// Full serve, closed loop, healthy sink.
    pub const SERVE: &str = "serve.json";
    /// The `deliveries` table during and after that phase.
    pub const DRAIN: &str = "drain.json";
    /// The sink's statistics of that phase (send→delivered latency).
    pub const SERVE_LATENCY: &str = "serve-latency.json";
    /// Full serve, open loop at half the closed-loop rate.
    pub const SERVE_HALF: &str = "serve-half.json";
    /// The sink's statistics of the light-load phase.
    pub const IDLE_LATENCY: &str = "idle-latency.json";
    /// Full serve, closed loop, the sink failing every delivery.
    pub const FAILING: &str = "serve-failing.json";
    /// The sink's statistics of that phase (attempts it failed).
    pub const FAILING_SINK: &str = "serve-failing-sink.json";
    /// The `deliveries` table at the end of that phase.
    pub const FAILING_DRAIN: &str = "serve-failing-drain.json";
    /// Full serve, open loop at N times capacity: `overload-N.json`.
    pub const OVERLOAD: &str = "overload-";
    /// A worker draining a queue to the sink over plain HTTP, round N: `delivery-http-N.json`.
    pub const DELIVERY_HTTP: &str = "delivery-http-";
    /// The same to the HTTPS sink: `delivery-https-N.json`.
    pub const DELIVERY_HTTPS: &str = "delivery-https-";
}

/// Prints the summary of the results in `dir`.
pub fn print(dir: &Path) -> anyhow::Result<()> {
    let results = Results::read(dir)?;
    summary::print(&results);
    cpu::print(&results);
    routes::print(&results.routes);
    scale::print(&results.scale);
    targets::print(&results);
    Ok(())
}
