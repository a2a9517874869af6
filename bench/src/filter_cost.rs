//! What a source's filters cost an event, in process: the source's own filter and its
//! connections' filters, compiled from the config hookgate runs with, evaluated as ingest
//! evaluates them (a fresh `RouteInput` per event, so the body is parsed once per event when a
//! condition reads it) on the request the load sends. The ingest comparison of the routes phase
//! measures the same from outside, where it is lost in the noise of a shared machine.

use std::path::Path;

use hookgate::config::Config;
use hookgate::routes::{ContentFilter, RouteInput};

use crate::payload::Signer;
use crate::transform_cost::{CallCost, time};

/// The header the load's provider (GitHub) carries the event type in.
const EVENT_TYPE_HEADER: &str = "X-GitHub-Event";

/// Every filter of `source` in the config at `config`, timed on one request of the load
/// (`signer`); every filter must pass it, as the routes phase expects.
pub fn measure(
    config: &Path,
    source: &str,
    signer: &Signer,
    calls: u64,
) -> anyhow::Result<CallCost> {
    let config = Config::load(config)?;
    let source = config
        .sources
        .iter()
        .find(|candidate| candidate.id == source)
        .ok_or_else(|| anyhow::anyhow!("no source {source:?} in the config"))?;
    let filters = source
        .filter
        .iter()
        .chain(source.destinations.iter().filter_map(|c| c.filter.as_ref()))
        .map(|filter| {
            ContentFilter::compile(filter).map_err(|(key, why)| anyhow::anyhow!("{key}: {why}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!filters.is_empty(), "source {:?} has no filter", source.id);
    let request = signer.request(1)?;
    let event_type = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(EVENT_TYPE_HEADER))
        .map(|(_, value)| value.as_str());
    let plural = if filters.len() == 1 { "" } else { "s" };
    let what = format!("{} filter{plural} of source {}", filters.len(), source.id);
    time(&what, request.body.len(), calls, || {
        let input = RouteInput::new(event_type, &request.headers, &request.body);
        match filters.iter().find_map(|filter| filter.failed_rule(&input)) {
            Some(rule) => anyhow::bail!("the load's event fails the rule {rule}"),
            None => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[database]
url = "postgres://bench@127.0.0.1:5432/bench"

[admin]
token = "bench-admin-token"

[[sources]]
id = "passing"
provider = "github"
secrets = ["bench-secret"]
filter = { event_types = ["ping"] }
destinations = [{ id = "sink", filter = { match = [{ pointer = "/repository/full_name", equals = "acme/widgets" }] } }]

[[sources]]
id = "failing"
provider = "github"
secrets = ["bench-secret"]
destinations = [{ id = "sink", filter = { match = [{ header = "X-GitHub-Event", equals = "push" }] } }]

[[sources]]
id = "unfiltered"
provider = "github"
secrets = ["bench-secret"]
destinations = ["sink"]

[[destinations]]
id = "sink"
url = "http://127.0.0.1:18090/hook"
"#;

    #[test]
    fn every_filter_of_the_source_is_timed_and_must_pass_the_load() {
        let dir =
            std::env::temp_dir().join(format!("hookgate-bench-filter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("hookgate.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let providers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../providers");
        let signer = Signer::new(&providers, "bench-secret", "http://127.0.0.1/", 1024).unwrap();
        let passing = measure(&config, "passing", &signer, 10);
        let failing = measure(&config, "failing", &signer, 10);
        let unfiltered = measure(&config, "unfiltered", &signer, 10);
        std::fs::remove_dir_all(&dir).unwrap();
        let passing = passing.unwrap();
        assert_eq!((passing.calls, passing.input_bytes), (10, 1024));
        assert_eq!(passing.what, "2 filters of source passing");
        assert!(failing.unwrap_err().to_string().contains("match[0]"));
        assert!(unfiltered.is_err());
    }
}
