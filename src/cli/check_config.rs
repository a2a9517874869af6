//! `hookgate check-config`: validates the config, every provider file and every certificate and
//! key file it uses, and warns about secrets that are obviously the wrong credential and about
//! certificates that are about to expire.

use crate::config::{self, Config, UnsetEnv};
use crate::startup;
use crate::tls::check::{Severity, tls_file_report};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// Config file (default: $HOOKGATE_CONFIG, else hookgate.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Validate without the environment: `${NAME}` references to unset variables are read as
    /// empty (and reported as notes), and the checks of the keys that use them are skipped.
    #[arg(long)]
    allow_unset_env: bool,
}

/// Prints notes and warnings on standard error, then the summary; fails on the first error.
pub fn run(args: CheckConfigArgs) -> anyhow::Result<()> {
    let path = config::resolve_path(args.config);
    let unset = if args.allow_unset_env {
        UnsetEnv::Allow
    } else {
        UnsetEnv::Reject
    };
    let config = Config::load_with(&path, unset)?;
    for variable in &config.unset_env {
        eprintln!("note: {}: {variable}; not checked", path.display());
    }
    let sources = startup::load_sources(&config, &path)?;
    startup::load_transforms(&config, &path)?;
    for warning in &sources.secret_warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = tls_file_report(&config)
        .into_iter()
        .partition(|finding| finding.severity == Severity::Error);
    for warning in &warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    if let Some(error) = errors.first() {
        anyhow::bail!("{}: {error}", path.display());
    }
    println!(
        "{}: ok ({}, {})",
        path.display(),
        count(config.sources.len(), "source"),
        count(config.destinations.len(), "destination")
    );
    Ok(())
}

/// `1 source`, `2 sources`.
fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}
