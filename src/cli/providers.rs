//! `hookgate providers`: the providers this binary knows, and one provider's definition file.

use crate::startup;
use crate::verify::ProviderRegistry;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `--providers-dir`, for the commands that read provider definitions without a config.
#[derive(Debug, Args)]
pub struct ProvidersDir {
    /// Directory of extra provider files (NAME.toml), which add to the built-in providers or
    /// override one by name.
    #[arg(long, global = true)]
    providers_dir: Option<PathBuf>,
}

impl ProvidersDir {
    /// The built-in providers plus those of `--providers-dir`.
    pub fn load(&self) -> anyhow::Result<ProviderRegistry> {
        startup::load_providers(self.providers_dir.as_deref())
    }
}

#[derive(Debug, Args)]
pub struct ProvidersArgs {
    #[command(subcommand)]
    command: Option<ProvidersCommand>,
    #[command(flatten)]
    providers_dir: ProvidersDir,
}

#[derive(Debug, Subcommand)]
enum ProvidersCommand {
    /// Print one provider's definition file.
    Show {
        /// The provider's name, as a source's `provider` names it.
        name: String,
    },
}

/// Lists the providers (name, scheme, built-in or which file), or prints one definition.
pub fn run(args: ProvidersArgs) -> anyhow::Result<()> {
    let registry = args.providers_dir.load()?;
    match args.command {
        None => print!("{}", table(&registry)),
        Some(ProvidersCommand::Show { name }) => print!("{}", registry.require(&name)?.text),
    }
    Ok(())
}

/// The columns of `hookgate providers`.
const COLUMNS: [&str; 6] = [
    "NAME",
    "SCHEME",
    "HEADERS",
    "TOLERANCE",
    "HANDSHAKE",
    "ORIGIN",
];

/// One line per provider, in aligned columns under a header.
fn table(registry: &ProviderRegistry) -> String {
    let rows: Vec<[String; 6]> = registry
        .entries()
        .map(|(name, entry)| {
            let provider = &entry.provider;
            [
                name.to_string(),
                provider.scheme_name().to_string(),
                provider.headers().join(","),
                provider
                    .default_tolerance_secs()
                    .map_or("-".to_string(), |secs| format!("{secs}s")),
                provider.handshake_name().unwrap_or("-").to_string(),
                entry.origin.to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].len())
                .chain([COLUMNS[column].len()])
                .max()
                .unwrap_or_default()
        })
        .collect();
    std::iter::once(COLUMNS.map(str::to_string))
        .chain(rows)
        .map(|row| {
            let (last, aligned) = row.split_last().expect("six columns");
            let mut line: String = aligned
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}  "))
                .collect();
            line.push_str(last);
            line.push('\n');
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_scheme_headers_tolerance_handshake_and_origin() {
        let table = table(&ProviderRegistry::built_in().unwrap());
        let lines: Vec<&str> = table.lines().collect();
        let scheme_column = lines[0].find("SCHEME").unwrap();
        let origin_column = lines[0].find("ORIGIN").unwrap();
        assert!(lines[0].starts_with("NAME "), "{table}");
        for line in &lines[1..] {
            let (name, rest) = line.split_at(scheme_column);
            assert!(name.ends_with("  ") && !rest.starts_with(' '), "{table}");
            assert_eq!(&line[origin_column..], "built-in", "{table}");
        }
        let row = |name: &str| {
            let prefix = format!("{name} ");
            let line = lines.iter().find(|line| line.starts_with(&prefix)).unwrap();
            line.split_whitespace().collect::<Vec<_>>()
        };
        assert_eq!(
            row("stripe"),
            [
                "stripe",
                "hmac",
                "Stripe-Signature",
                "300s",
                "-",
                "built-in"
            ]
        );
        assert_eq!(
            row("slack"),
            [
                "slack",
                "hmac",
                "X-Slack-Signature,X-Slack-Request-Timestamp",
                "300s",
                "slack",
                "built-in"
            ]
        );
        assert_eq!(
            row("twitch")[2],
            "Twitch-Eventsub-Message-Signature,Twitch-Eventsub-Message-Timestamp,Twitch-Eventsub-Message-Id"
        );
    }
}
