//! The `hookgate` command line.

use crate::app::{self, Application, Role, ServeOptions};
use crate::config::{self, Config};
use crate::store::Store;
use crate::verify::ProviderRegistry;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// hookgate: a self-hosted inbound webhook gateway.
#[derive(Debug, Parser)]
#[command(name = "hookgate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the ingest listener, the admin listener and the delivery workers.
    Serve {
        /// Config file (default: $HOOKGATE_CONFIG, else hookgate.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Run only one part of hookgate.
        #[arg(long, value_enum, default_value_t = Role::All)]
        role: Role,
        /// Do not apply pending migrations at start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate the config and every provider file it uses.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the headers (and a curl line) a provider would send for a body.
    Sign {
        /// Provider name: a file providers/NAME.toml.
        #[arg(long)]
        provider: String,
        /// The signing secret, as the provider shows it.
        #[arg(long)]
        secret: String,
        /// File holding the body to sign ("-" for standard input); default: a sample event.
        #[arg(long)]
        body: Option<PathBuf>,
        /// Where the webhook will be sent (some providers sign it).
        #[arg(long)]
        url: Option<String>,
        /// Directory of provider files.
        #[arg(long, default_value = "providers")]
        providers_dir: PathBuf,
    },
    /// Replay events through the admin API.
    Replay(crate::replays::cli::ReplayArgs),
    /// List, show and tail events through the admin API.
    Events(crate::events_cli::EventsArgs),
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            role,
            no_migrate,
        } => serve(config, role, no_migrate).await,
        Command::Migrate { config } => migrate(config).await,
        Command::CheckConfig { config } => check_config(config),
        Command::Sign {
            provider,
            secret,
            body,
            url,
            providers_dir,
        } => sign(&providers_dir, &provider, &secret, body.as_deref(), url),
        Command::Replay(args) => crate::replays::cli::run(args).await,
        Command::Events(args) => crate::events_cli::run(args).await,
    }
}

fn load(flag: Option<PathBuf>) -> anyhow::Result<(Config, PathBuf)> {
    let path = config::resolve_path(flag);
    let config = Config::load(&path)?;
    Ok((config, path))
}

async fn serve(config: Option<PathBuf>, role: Role, no_migrate: bool) -> anyhow::Result<()> {
    let (config, path) = load(config)?;
    let options = ServeOptions {
        role,
        no_migrate,
        ..ServeOptions::default()
    };
    let app = Application::build(config, &path, options).await?;
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        shutdown.cancel();
    });
    app.run().await
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("signal received");
}

async fn migrate(config: Option<PathBuf>) -> anyhow::Result<()> {
    let (config, _) = load(config)?;
    let store = Store::connect_lazy(&config.database.url, 1).context("invalid database.url")?;
    store.migrate().await.context("applying migrations")?;
    store.close().await;
    println!("migrations applied");
    Ok(())
}

fn check_config(config: Option<PathBuf>) -> anyhow::Result<()> {
    let (config, path) = load(config)?;
    app::load_sources(&config, &path)?;
    println!(
        "{}: ok ({} sources, {} destinations)",
        path.display(),
        config.sources.len(),
        config.destinations.len()
    );
    Ok(())
}

fn sign(
    providers_dir: &Path,
    provider_name: &str,
    secret: &str,
    body_file: Option<&Path>,
    url: Option<String>,
) -> anyhow::Result<()> {
    let registry = ProviderRegistry::load_dir(providers_dir)
        .with_context(|| format!("loading providers from {}", providers_dir.display()))?;
    let provider = registry
        .get(provider_name)
        .with_context(|| format!("unknown provider {provider_name:?}"))?;
    let body = match body_file {
        Some(path) if path == Path::new("-") => {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)?;
            body
        }
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => sample_body(),
    };
    let url = url.unwrap_or_else(|| format!("http://127.0.0.1:8080/webhooks/{provider_name}"));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let headers = provider.sign(&body, secret, &url, now)?;
    for (name, value) in &headers {
        println!("{name}: {value}");
    }
    let mut curl = format!("curl -i -X POST {}", shell_quote(&url));
    for (name, value) in &headers {
        curl.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    match body_file {
        Some(path) if path != Path::new("-") => {
            curl.push_str(&format!(
                " --data-binary @{}",
                shell_quote(&path.to_string_lossy())
            ));
        }
        _ => curl.push_str(&format!(
            " --data-binary {}",
            shell_quote(&String::from_utf8_lossy(&body))
        )),
    }
    println!("\n{curl}");
    Ok(())
}

/// A small event with a fresh id, so repeated `sign` runs are not duplicates.
fn sample_body() -> Vec<u8> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    serde_json::json!({"id": format!("evt_{id}"), "type": "hookgate.test", "data": {"hello": "world"}})
        .to_string()
        .into_bytes()
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
