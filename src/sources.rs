//! The sources hookgate accepts webhooks for, resolved against their provider definitions
//! and with their secrets decoded once at startup.

use crate::config::{Config, FilterConfig, SourceConfig};
use crate::routes::{Connection, ContentFilter, OrderingKey, Routes};
use crate::verify::{Provider, ProviderRegistry, SecretKey, SourceOptions};
use std::collections::HashMap;
use std::sync::Arc;

/// One endpoint a third party posts to, ready to verify requests.
pub struct Source {
    pub id: Arc<str>,
    pub provider: Arc<Provider>,
    pub keys: Vec<SecretKey>,
    pub tolerance_secs: Option<u64>,
    /// Which destinations its events go to.
    pub routes: Routes,
    pub public_url: Option<String>,
    /// The provider-specific keys (`verify_token`, `webhook_id`, …).
    pub options: SourceOptions,
    /// Throttles this source's ingest log lines.
    pub log: crate::ingest::SourceLog,
    /// Counts and times the requests it stores.
    pub metrics: crate::metrics::SourceMetrics,
}

/// Every configured source, by id.
#[derive(Default)]
pub struct Sources {
    by_id: HashMap<String, Arc<Source>>,
    /// Secrets that are obviously not their provider's webhook signing secret (an API key of
    /// that provider, say): one line each, naming the key, never the secret.
    pub secret_warnings: Vec<String>,
}

impl Sources {
    /// Resolves each source's provider and decodes its secrets; on failure answers the config
    /// key at fault and why.
    pub fn build(
        config: &Config,
        providers: &ProviderRegistry,
    ) -> Result<Sources, (String, String)> {
        let mut by_id = HashMap::new();
        let mut secret_warnings = Vec::new();
        for (index, source) in config.sources.iter().enumerate() {
            let key = |field: &str| format!("sources[{index}] ({:?}).{field}", source.id);
            let provider = providers
                .require(&source.provider)
                .map(|entry| entry.provider.clone())
                .map_err(|unknown| (key("provider"), unknown.to_string()))?;
            let no_secret = source.secrets.is_empty()
                && !config.uses_unset_env(&format!("sources[{index}].secrets"));
            if no_secret && provider.requires_secrets() {
                return Err((
                    key("secrets"),
                    "no secret: list at least one non-empty signing secret".to_string(),
                ));
            }
            let options = source.options();
            provider
                .check_options(&options)
                .map_err(|(field, why)| (key(field), why))?;
            secret_warnings.extend(source.secrets.iter().enumerate().filter_map(|(i, secret)| {
                let warning = provider.secret_warning(secret)?;
                Some(format!("{}: {warning}", key(&format!("secrets[{i}]"))))
            }));
            let keys = source
                .secrets
                .iter()
                .enumerate()
                .map(|(i, secret)| {
                    provider
                        .secret_key(secret)
                        .map_err(|err| (key(&format!("secrets[{i}]")), err.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let resolved = Source {
                id: source.id.as_str().into(),
                provider,
                keys,
                tolerance_secs: source.tolerance_secs,
                routes: routes(source, config).map_err(|(field, why)| (key(&field), why))?,
                public_url: source.public_url.clone(),
                options,
                log: Default::default(),
                metrics: crate::metrics::SourceMetrics::new(&source.id),
            };
            by_id.insert(source.id.clone(), Arc::new(resolved));
        }
        Ok(Sources {
            by_id,
            secret_warnings,
        })
    }

    /// The source with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Source>> {
        self.by_id.get(id)
    }

    /// Every source, ordered by id.
    pub fn sorted(&self) -> Vec<&Arc<Source>> {
        let mut sources: Vec<_> = self.by_id.values().collect();
        sources.sort_by(|a, b| a.id.cmp(&b.id));
        sources
    }
}

/// Compiles a source's filter and connections (their config was validated: an error here
/// is one `check-config` reports too).
fn routes(source: &SourceConfig, config: &Config) -> Result<Routes, (String, String)> {
    let compile = |filter: &Option<FilterConfig>, key: &str| {
        filter
            .as_ref()
            .map(|filter| {
                ContentFilter::compile(filter)
                    .map_err(|(field, why)| (format!("{key}.{field}"), why))
            })
            .transpose()
    };
    let connections = source
        .destinations
        .iter()
        .enumerate()
        .map(|(i, connection)| {
            Ok(Connection {
                destination: connection.id.as_str().into(),
                filter: compile(&connection.filter, &format!("destinations[{i}].filter"))?,
                ordering: ordering(config, &connection.id)
                    .map_err(|why| (format!("destinations[{i}] ordering.key"), why))?,
            })
        })
        .collect::<Result<_, (String, String)>>()?;
    Ok(Routes {
        filter: compile(&source.filter, "filter")?,
        connections,
    })
}

/// The ordering key of the destination `id`, if it delivers in order.
fn ordering(config: &Config, id: &str) -> Result<Option<OrderingKey>, String> {
    config
        .destinations
        .iter()
        .find(|d| d.id == id)
        .and_then(|d| d.ordering.as_ref())
        .map(OrderingKey::compile)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(sources: &str) -> Result<Sources, (String, String)> {
        let text =
            format!("[database]\nurl = \"postgres://db\"\n[admin]\ntoken = \"t\"\n{sources}");
        let no_env: crate::config::EnvLookup = std::rc::Rc::new(|_| None);
        let config = Config::parse(std::path::Path::new("h.toml"), &text, no_env).unwrap();
        Sources::build(&config, &ProviderRegistry::built_in().unwrap())
    }

    #[test]
    fn a_source_needs_a_secret_unless_its_first_request_brings_one() {
        let stripe = build("[[sources]]\nid = \"s\"\nprovider = \"stripe\"\n");
        let (key, why) = stripe.err().unwrap();
        assert_eq!(key, r#"sources[0] ("s").secrets"#);
        assert!(why.starts_with("no secret"), "{why}");
        assert!(build("[[sources]]\nid = \"n\"\nprovider = \"notion\"\n").is_ok());
        assert!(build("[[sources]]\nid = \"a\"\nprovider = \"aws-sns\"\nsecrets = []\n").is_ok());
        let paypal =
            "[[sources]]\nid = \"p\"\nprovider = \"paypal\"\nwebhook_id = \"1JE4291016473214C\"\n";
        assert!(build(paypal).is_ok());
    }

    #[test]
    fn a_provider_specific_key_is_refused_where_the_provider_does_not_read_it() {
        let source = "[[sources]]\nid = \"s\"\nprovider = \"stripe\"\nsecrets = [\"whsec_x\"]\n";
        let (key, why) = build(&format!("{source}verify_token = \"v\"\n"))
            .err()
            .unwrap();
        assert_eq!(key, r#"sources[0] ("s").verify_token"#);
        assert_eq!(why, "not used by provider `stripe`");
        let meta = "[[sources]]\nid = \"m\"\nprovider = \"meta\"\nsecrets = [\"x\"]\nverify_token = \"v\"\n";
        assert!(build(meta).is_ok());
    }
}
