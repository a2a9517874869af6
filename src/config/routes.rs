//! A source's routing keys: `destinations` entries (a destination id, or a connection table
//! with rules of its own) and `filter` tables.

use super::env_value;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::fmt;

/// One entry of a source's `destinations`: `"ledger"`, or
/// `{ id = "ledger", filter = { … }, transform = "NAME" }` for rules of this source and this
/// destination only.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionConfig {
    pub id: String,
    pub filter: Option<FilterConfig>,
    /// Runs `handler(event)` of `transforms/NAME.js` on each delivery of this connection.
    pub transform: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionTable {
    #[serde(deserialize_with = "env_value::string")]
    id: String,
    #[serde(default)]
    filter: Option<FilterConfig>,
    #[serde(deserialize_with = "env_value::optional_string", default)]
    transform: Option<String>,
}

impl<'de> Deserialize<'de> for ConnectionConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> Visitor<'de> for Entry {
            type Value = ConnectionConfig;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a destination id, or a table { id, filter, transform }")
            }

            fn visit_str<E: de::Error>(self, id: &str) -> Result<ConnectionConfig, E> {
                Ok(ConnectionConfig {
                    id: env_value::string(de::value::StrDeserializer::<E>::new(id))?,
                    filter: None,
                    transform: None,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConnectionConfig, A::Error> {
                let table = ConnectionTable::deserialize(MapAccessDeserializer::new(map))?;
                Ok(ConnectionConfig {
                    id: table.id,
                    filter: table.filter,
                    transform: table.transform,
                })
            }
        }
        deserializer.deserialize_any(Entry)
    }
}

/// `filter = { event_types = [...], match = [...] }`: which events pass; every condition must
/// hold.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Event type patterns; `*` matches any run of characters.
    #[serde(deserialize_with = "env_value::string_list", default)]
    pub event_types: Vec<String>,
    #[serde(rename = "match", default)]
    pub conditions: Vec<MatchConfig>,
}

/// One `match` condition: a `pointer` into the JSON body or a `header`, and one test. The
/// tests' values are checked for their type when the filter is compiled, so that a wrong one
/// is reported with the source, the destination and the condition it is in.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    #[serde(default)]
    pub pointer: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    #[serde(rename = "in", default)]
    pub one_of: Option<serde_json::Value>,
    #[serde(default)]
    pub prefix: Option<serde_json::Value>,
    #[serde(default)]
    pub gt: Option<serde_json::Value>,
    #[serde(default)]
    pub gte: Option<serde_json::Value>,
    #[serde(default)]
    pub lt: Option<serde_json::Value>,
    #[serde(default)]
    pub lte: Option<serde_json::Value>,
    #[serde(default)]
    pub exists: Option<serde_json::Value>,
}
