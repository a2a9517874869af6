use std::io::Write;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    hookgate::telemetry::init();
    hookgate::tls::install_default_provider();
    match hookgate::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Not eprintln!, which panics when standard error is gone: the exit code still tells.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
