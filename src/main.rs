use std::io::Write;

/// jemalloc rather than glibc's malloc. A webhook's path allocates and frees many short-lived
/// buffers, often on another thread than allocated them (a body read on an actix worker is
/// freed after the commit writer and a delivery task are done with it). In flat profiles
/// glibc's free lists took 11–13 % of hookgate's CPU per event, jemalloc's thread caches 4–5 %,
/// for ~6 MiB more resident at 64 connections (bench/RESULTS.md). Large bodies (up to 25 MiB)
/// come from extents jemalloc keeps per arena and reuses for later large bodies, with no
/// per-thread heap to pin as glibc needed (its mapping threshold): the large-bodies drill peaks
/// where it did.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let log = hookgate::telemetry::init();
    hookgate::tls::install_default_provider();
    let outcome = hookgate::cli::run().await;
    // Every log line is out before the error line and the exit.
    drop(log);
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Not eprintln!, which panics when standard error is gone: the exit code still tells.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
