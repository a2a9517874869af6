//! What `serve` and `check-config` load beside the config itself: the providers, the sources
//! resolved against them, and the transforms' scripts. Each error names the config file and the
//! key (or provider file, or script line) at fault.

use crate::config::Config;
use crate::sources::Sources;
use crate::transform::Transforms;
use crate::verify::ProviderRegistry;
use anyhow::Context;
use std::path::Path;

/// The built-in providers, plus the files of `dir` (`[server] providers_dir`, `--providers-dir`)
/// when given; the error names the directory or file at fault.
pub fn load_providers(dir: Option<&Path>) -> anyhow::Result<ProviderRegistry> {
    let context = match dir {
        Some(_) => {
            "reading the providers directory (leave it out to use only the built-in providers)"
        }
        None => "loading the built-in providers",
    };
    ProviderRegistry::load(dir).context(context)
}

/// Loads the providers a config can use and resolves its sources.
pub fn load_sources(config: &Config, config_path: &Path) -> anyhow::Result<Sources> {
    let registry = load_providers(config.server.providers_dir.as_deref().map(Path::new))?;
    Sources::build(config, &registry).map_err(at_key(config_path))
}

/// Reads and compiles the transforms the config's connections name.
pub fn load_transforms(config: &Config, config_path: &Path) -> anyhow::Result<Transforms> {
    Transforms::load(config).map_err(at_key(config_path))
}

/// A `(key, why)` error as `FILE: key: why`.
fn at_key(config_path: &Path) -> impl Fn((String, String)) -> anyhow::Error + '_ {
    move |(key, why)| anyhow::anyhow!("{}: {key}: {why}", config_path.display())
}
