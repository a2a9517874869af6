//! All provider definitions of a directory, loaded once at startup.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::{Provider, ProviderError};

/// All providers in a directory, keyed by file stem.
#[derive(Debug, Default)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<Provider>>,
}

impl ProviderRegistry {
    /// Loads every `*.toml` file in `dir`; the error names the file, the key and why.
    pub fn load_dir(dir: &Path) -> Result<ProviderRegistry, ProviderError> {
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ProviderError::Io { path, source }
        };
        let mut providers = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
            let path = entry.map_err(io_error(dir))?.path();
            if path.extension().is_none_or(|ext| ext != "toml") {
                continue;
            }
            let file_error = |source| ProviderError::File {
                path: path.clone(),
                source: Box::new(source),
            };
            let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
                return Err(file_error(ProviderError::Syntax {
                    provider: path.display().to_string(),
                    message: "the file name is not valid UTF-8".to_string(),
                }));
            };
            let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
            let provider = Provider::parse(name, &text).map_err(file_error)?;
            providers.insert(name.to_string(), Arc::new(provider));
        }
        Ok(ProviderRegistry { providers })
    }

    /// The provider named `name`, if loaded.
    pub fn get(&self, name: &str) -> Option<Arc<Provider>> {
        self.providers.get(name).cloned()
    }

    /// The loaded provider names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }
}
