//! Routing: which of a source's destinations an event is delivered to. A source connects to
//! destinations; the source's filter applies first, then each connection's own. A connection
//! that an event does not pass creates no delivery and is recorded as `filtered`, naming the
//! rule that failed, so an operator can see why nothing arrived.

mod condition;
mod event_types;
mod filter;
mod ordering;
#[cfg(test)]
mod tests;

pub use event_types::EventTypeFilter;
pub use filter::ContentFilter;
pub use ordering::OrderingKey;

use serde_json::Value;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

/// Header values as filters read them: by name, case-insensitively, repeated headers joined
/// with ", " (as they are stored).
pub trait HeaderValues {
    fn joined(&self, name: &str) -> Option<Cow<'_, str>>;
}

/// Name and value pairs, as tests and the command line have them.
impl HeaderValues for Vec<(String, String)> {
    fn joined(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut values = self
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str());
        let first = values.next()?;
        Some(values.fold(Cow::Borrowed(first), |joined, next| {
            Cow::Owned(format!("{joined}, {next}"))
        }))
    }
}

/// What filters look at: the event's type, its headers and its body, parsed as JSON at most
/// once however many conditions read it (and not at all when none does).
pub struct RouteInput<'a> {
    event_type: Option<&'a str>,
    headers: &'a dyn HeaderValues,
    body: &'a [u8],
    json: OnceCell<Option<Value>>,
}

impl<'a> RouteInput<'a> {
    pub fn new(
        event_type: Option<&'a str>,
        headers: &'a dyn HeaderValues,
        body: &'a [u8],
    ) -> RouteInput<'a> {
        RouteInput {
            event_type,
            headers,
            body,
            json: OnceCell::new(),
        }
    }

    /// The body as JSON; `None` when it is not JSON.
    fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| serde_json::from_slice(self.body).ok())
            .as_ref()
    }

    fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.headers.joined(name)
    }
}

/// A source's connection to one destination.
#[derive(Debug, Clone)]
pub struct Connection {
    pub destination: Arc<str>,
    pub filter: Option<ContentFilter>,
    /// The destination's ordering key, when it delivers in order.
    pub ordering: Option<OrderingKey>,
}

/// A connection an event did not pass, or (`destination: None`) the source's own filter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Filtered {
    #[schema(value_type = Option<String>)]
    pub destination: Option<Arc<str>>,
    /// The condition that failed, as configured: `event_types ["invoice.*"]`,
    /// `match[0]: pointer "/data/object/currency" equals "eur"`.
    #[schema(value_type = String)]
    pub rule: Arc<str>,
}

/// Where one event goes.
#[derive(Debug, Default, PartialEq)]
pub struct Fanout {
    pub destinations: Vec<Arc<str>>,
    pub filtered: Vec<Filtered>,
}

/// A source's routing table.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    pub filter: Option<ContentFilter>,
    pub connections: Vec<Connection>,
}

impl Routes {
    /// The destinations the event is delivered to, and the connections it was filtered from.
    pub fn fan_out(&self, input: &RouteInput) -> Fanout {
        if let Some(rule) = self.filter.as_ref().and_then(|f| f.failed_rule(input)) {
            return Fanout {
                destinations: Vec::new(),
                filtered: vec![Filtered {
                    destination: None,
                    rule,
                }],
            };
        }
        let mut fanout = Fanout::default();
        for connection in &self.connections {
            match connection
                .filter
                .as_ref()
                .and_then(|f| f.failed_rule(input))
            {
                None => fanout.destinations.push(connection.destination.clone()),
                Some(rule) => fanout.filtered.push(Filtered {
                    destination: Some(connection.destination.clone()),
                    rule,
                }),
            }
        }
        fanout
    }

    /// The event's ordering key for `destination`; `None` when that destination (or this
    /// event) is unordered.
    pub fn ordering_key(
        &self,
        destination: &str,
        source_id: &str,
        input: &RouteInput,
    ) -> Option<String> {
        self.connections
            .iter()
            .find(|c| &*c.destination == destination)?
            .ordering
            .as_ref()?
            .of(source_id, input)
    }

    /// Every destination the source is connected to, filters aside: what a replay may choose.
    pub fn destination_ids(&self) -> impl Iterator<Item = &Arc<str>> {
        self.connections.iter().map(|c| &c.destination)
    }
}
