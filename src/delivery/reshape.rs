//! Before an attempt: the connection's transform, if it has one, decides what is sent. The
//! worker sees only the outcome: send unchanged, send reshaped, do not send, or a failed
//! transform (an attempt that failed without asking the destination).

use crate::config::Config;
use crate::store::ClaimedDelivery;
use crate::transform::{EventView, Reshaped, Transforms, Verdict, input_json, parse_output};
use std::collections::HashMap;
use std::sync::Arc;
use url::Url;

/// The transforms of one destination's connections, by source.
pub struct DestinationTransforms {
    by_source: HashMap<String, String>,
    transforms: Arc<Transforms>,
}

/// What to do with a delivery.
pub enum Prepared {
    /// Send the event as stored.
    Unchanged,
    Reshaped(Reshaped),
    /// The transform returned `null`.
    Skip,
    /// The transform failed: why, for the attempt's error.
    Failed(String),
}

impl DestinationTransforms {
    /// `None` when no connection to `destination` has a transform.
    pub fn for_destination(
        config: &Config,
        destination: &str,
        transforms: &Arc<Transforms>,
    ) -> Option<DestinationTransforms> {
        let by_source: HashMap<String, String> = config
            .sources
            .iter()
            .flat_map(|source| {
                source
                    .destinations
                    .iter()
                    .filter(|connection| connection.id == destination)
                    .filter_map(|connection| {
                        Some((source.id.clone(), connection.transform.clone()?))
                    })
            })
            .collect();
        (!by_source.is_empty()).then(|| DestinationTransforms {
            by_source,
            transforms: transforms.clone(),
        })
    }

    /// Runs the transform of the delivery's connection, if it has one.
    /// The claim brought the event's headers along (see [`Store::claim_deliveries`]), so a
    /// transformed delivery costs no query of its own.
    ///
    /// [`Store::claim_deliveries`]: crate::store::Store::claim_deliveries
    pub async fn prepare(&self, delivery: &ClaimedDelivery) -> Prepared {
        let Some(name) = self.by_source.get(&delivery.source_id) else {
            return Prepared::Unchanged;
        };
        let Some(headers) = delivery.headers_json.as_deref() else {
            return Prepared::Failed("claimed without the event's headers".into());
        };
        let headers: &serde_json::value::RawValue = match serde_json::from_str(headers) {
            Ok(headers) => headers,
            Err(err) => return Prepared::Failed(format!("the stored headers: {err}")),
        };
        let input = input_json(&EventView {
            body: &delivery.body,
            headers,
            source: &delivery.source_id,
            event_type: delivery.event_type.as_deref(),
            event_id: delivery.event_id,
            provider_event_id: &delivery.provider_event_id,
            received_at: delivery.received_at,
        });
        let answer = match self.transforms.run(name, input).await {
            Ok(answer) => answer,
            Err(failure) => return Prepared::Failed(format!("{name}: {failure}")),
        };
        match parse_output(&answer) {
            Ok(Verdict::Skip) => Prepared::Skip,
            Ok(Verdict::Deliver(reshaped)) => Prepared::Reshaped(reshaped),
            Err(why) => Prepared::Failed(format!("{name}: {why}")),
        }
    }
}

/// `url` with `path` appended to its path, before its query.
pub fn url_with_path(url: &Url, path: &str) -> Url {
    let mut joined = url.clone();
    joined.set_path(&format!("{}{path}", url.path().trim_end_matches('/')));
    joined
}

#[cfg(test)]
mod tests {
    use super::url_with_path;
    use url::Url;

    fn joined(url: &str, path: &str) -> String {
        url_with_path(&Url::parse(url).unwrap(), path).into()
    }

    #[test]
    fn a_path_goes_after_the_destination_path_and_before_its_query() {
        assert_eq!(
            joined("https://api.internal/hooks/?v=2", "/stripe/invoice"),
            "https://api.internal/hooks/stripe/invoice?v=2"
        );
        assert_eq!(
            joined("http://127.0.0.1:9000", "/x"),
            "http://127.0.0.1:9000/x"
        );
    }
}
