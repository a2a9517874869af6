//! `ordering = { key, on_dead }` of a destination: deliveries that share a key reach it one at
//! a time, in ingest order (see `store::ordering` for how the queue keeps that promise).

use super::env_value;
use serde::Deserialize;

/// `key = "source"`: one stream per source.
pub const SOURCE_KEY: &str = "source";

/// `ordering` of a destination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderingConfig {
    /// A JSON pointer into the body (`"/data/object/customer"`), or `"source"`.
    #[serde(deserialize_with = "env_value::string")]
    pub key: String,
    /// What a key does when its head goes dead.
    #[serde(default)]
    pub on_dead: OnDead,
}

/// `on_dead` of an ordering: what a dead head does to the deliveries behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDead {
    /// The key stops until an operator replays the dead delivery or skips it.
    #[default]
    Block,
    /// The next delivery of the key goes on.
    Skip,
}
