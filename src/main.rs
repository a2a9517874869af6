#[tokio::main]
async fn main() -> std::process::ExitCode {
    hookgate::telemetry::init();
    hookgate::tls::install_default_provider();
    match hookgate::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
