use std::io::Write;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    hookgate::memory::return_large_allocations_to_the_system();
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
