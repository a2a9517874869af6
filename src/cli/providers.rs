//! `hookgate providers`: the providers this binary knows, and one provider's definition file.

use crate::app;
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
        app::load_providers(self.providers_dir.as_deref())
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

/// One line per provider, in aligned columns under a header.
fn table(registry: &ProviderRegistry) -> String {
    let rows: Vec<[String; 3]> = registry
        .entries()
        .map(|(name, entry)| {
            let scheme = entry.provider.scheme_name().to_string();
            [name.to_string(), scheme, entry.origin.to_string()]
        })
        .collect();
    let width = |column: usize, title: &str| {
        rows.iter()
            .map(|row| row[column].len())
            .chain([title.len()])
            .max()
            .unwrap_or_default()
    };
    let (name_width, scheme_width) = (width(0, "NAME"), width(1, "SCHEME"));
    std::iter::once(["NAME".to_string(), "SCHEME".into(), "ORIGIN".into()])
        .chain(rows.iter().cloned())
        .map(|[name, scheme, origin]| {
            format!("{name:name_width$}  {scheme:scheme_width$}  {origin}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_name_scheme_and_origin() {
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
        let stripe = lines.iter().find(|line| line.starts_with("stripe "));
        assert!(stripe.unwrap().contains(" hmac "), "{table}");
    }
}
