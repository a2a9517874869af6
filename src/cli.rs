//! The `hookgate` command line.

mod check_config;
mod providers;
mod sign;

use crate::app::{self, Application, Role, ServeOptions};
use crate::config::{self, Config};
use crate::store::Store;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tokio::signal::unix::{SignalKind, signal};

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
        /// Create the database named in database.url when the server does not have it.
        #[arg(long)]
        create_database: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Create the database named in database.url when the server does not have it.
        #[arg(long)]
        create_database: bool,
    },
    /// Validate the config and every provider file it uses.
    CheckConfig(check_config::CheckConfigArgs),
    /// Print the headers (and a curl line) a provider would send for a body, or post it.
    Sign(sign::SignArgs),
    /// List the known providers, or print one provider's definition.
    Providers(providers::ProvidersArgs),
    /// Replay events through the admin API.
    Replay(crate::replays::cli::ReplayArgs),
    /// Run a destination that prints every delivery it receives (for trying hookgate).
    DemoSink {
        /// Address to listen on.
        #[arg(long, env = "DEMO_SINK_LISTEN", default_value = "127.0.0.1:9000")]
        listen: String,
    },
    /// List, show and tail events through the admin API.
    Events(crate::events_cli::EventsArgs),
    /// Consume a pull destination: run a command per message, or forward each to a URL.
    Consume(crate::consume::cli::ConsumeArgs),
    /// Try a transform script on an event.
    Transform(crate::transform::cli::TransformArgs),
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            role,
            no_migrate,
            create_database,
        } => {
            let options = ServeOptions {
                role,
                no_migrate,
                create_database,
                ..ServeOptions::default()
            };
            serve(config, options).await
        }
        Command::Migrate {
            config,
            create_database,
        } => migrate(config, create_database).await,
        Command::CheckConfig(args) => check_config::run(args),
        Command::Sign(args) => sign::run(args).await,
        Command::Providers(args) => providers::run(args),
        Command::Replay(args) => crate::replays::cli::run(args).await,
        Command::DemoSink { listen } => crate::demo_sink::run(&listen).await,
        Command::Events(args) => crate::events_cli::run(args).await,
        Command::Consume(args) => crate::consume::cli::run(args).await,
        Command::Transform(args) => crate::transform::cli::run(args).await,
    }
}

fn load(flag: Option<PathBuf>) -> anyhow::Result<(Config, PathBuf)> {
    let path = config::resolve_path(flag);
    let config = Config::load(&path)?;
    Ok((config, path))
}

async fn serve(config: Option<PathBuf>, options: ServeOptions) -> anyhow::Result<()> {
    let (config, path) = load(config)?;
    // Taken before the listeners start: SIGHUP's default action would end the process, and
    // an operator renewing a certificate or a transform must never stop hookgate.
    let hangups = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let app = Application::build(config, &path, options).await?;
    tokio::spawn(app.reloader().reload_on(hangups));
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        shutdown.cancel();
    });
    app.run().await
}

async fn wait_for_signal() {
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

async fn migrate(config: Option<PathBuf>, create_database: bool) -> anyhow::Result<()> {
    let (config, _) = load(config)?;
    if create_database {
        app::create_database_if_missing(&config.database.url).await?;
    }
    let store = Store::connect_lazy(&config.database.url, 1).context("invalid database.url")?;
    store.migrate().await.context("applying migrations")?;
    store.close().await;
    println!("migrations applied");
    Ok(())
}
