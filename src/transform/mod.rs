//! Transformations: a connection's `transform = "NAME"` runs `handler(event)` from
//! `transforms/NAME.js` at delivery time, in an embedded QuickJS sandbox, to reshape what the
//! destination receives. The stored event never changes; a replay after a fix uses the new
//! script. Scripts are compiled at start (a broken one stops the start, as `check-config`
//! says) and read again on `SIGHUP` (a broken one then keeps its previous version).

pub mod cli;
mod event;
mod pool;
mod sandbox;
#[cfg(test)]
mod tests;

pub use event::{EventView, Reshaped, Verdict, input_json, parse_output};
pub use sandbox::{Failure, Sandbox, Script};

use crate::config::Config;
use pool::Pool;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Every script the config's connections name, compiled, and the threads that run them.
pub struct Transforms {
    dir: PathBuf,
    memory_mb: usize,
    scripts: RwLock<HashMap<String, Arc<Script>>>,
    versions: AtomicU64,
    /// `None` when no connection has a transform: no thread is started.
    pool: Option<Pool>,
}

impl Transforms {
    /// Reads and compiles every script a connection names; the error names the config key
    /// and what is wrong (a missing file, or the file and line of a syntax error).
    pub fn load(config: &Config) -> Result<Transforms, (String, String)> {
        let server = &config.server;
        let dir = PathBuf::from(&server.transforms_dir);
        let memory_mb = server.transform_memory_mb;
        let mut scripts = HashMap::new();
        for (i, source) in config.sources.iter().enumerate() {
            for (j, connection) in source.destinations.iter().enumerate() {
                let Some(name) = &connection.transform else {
                    continue;
                };
                if scripts.contains_key(name) {
                    continue;
                }
                let key = format!(
                    "sources[{i}] ({:?}).destinations[{j}] ({:?}).transform",
                    source.id, connection.id
                );
                let script = read(&dir, name, 1).map_err(|why| (key.clone(), why))?;
                Sandbox::check(&script, memory_mb).map_err(|f| (key, f.to_string()))?;
                scripts.insert(name.clone(), Arc::new(script));
            }
        }
        let limit = Duration::from_millis(server.transform_timeout_ms);
        // One sandbox per CPU: a transform is CPU work.
        let pool =
            (!scripts.is_empty()).then(|| Pool::start(crate::config::cpus(), memory_mb, limit));
        Ok(Transforms {
            dir,
            memory_mb,
            scripts: RwLock::new(scripts),
            versions: AtomicU64::new(1),
            pool,
        })
    }

    /// Reads every script again; one that changed and compiles replaces its previous
    /// version, one that does not compile (or is gone) keeps it. Answers what was kept, and
    /// why, for the log.
    pub fn reload(&self) -> Vec<String> {
        let names: Vec<(String, Arc<Script>)> = self
            .scripts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(name, script)| (name.clone(), script.clone()))
            .collect();
        let mut kept = Vec::new();
        for (name, current) in names {
            let version = self.versions.fetch_add(1, Ordering::Relaxed) + 1;
            let fresh = match read(&self.dir, &name, version) {
                Ok(fresh) if fresh.source == current.source => continue,
                Ok(fresh) => fresh,
                Err(why) => {
                    kept.push(format!("{name}: {why}; the previous version stays"));
                    continue;
                }
            };
            if let Err(failure) = Sandbox::check(&fresh, self.memory_mb) {
                kept.push(format!("{name}: {failure}; the previous version stays"));
                continue;
            }
            self.scripts
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(name, Arc::new(fresh));
        }
        kept
    }

    /// Runs the script `name` on `input` (see [`input_json`]).
    pub async fn run(&self, name: &str, input: String) -> Result<String, Failure> {
        let script = self
            .scripts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned();
        match (script, &self.pool) {
            (Some(script), Some(pool)) => pool.run(script, input).await,
            _ => Err(Failure::Compile(format!("no transform {name:?} is loaded"))),
        }
    }
}

/// `dir/NAME.js`.
fn read(dir: &Path, name: &str, version: u64) -> Result<Script, String> {
    let path = dir.join(format!("{name}.js"));
    let source = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Ok(Script {
        name: name.to_owned(),
        file: path.display().to_string(),
        source,
        version,
    })
}
