//! The ordering key of an event for a destination with `ordering`: the source's id, or the
//! value a JSON pointer finds in the body (read from the body [`RouteInput`] parsed once for
//! the filters too). An event without one is delivered unordered.

use super::RouteInput;
use super::condition::check_pointer;
use crate::config::{OrderingConfig, SOURCE_KEY};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Keys longer than this are stored as `sha256:` and their digest: an index entry stays small
/// whatever the body holds, and distinct keys stay distinct.
const MAX_STORED_KEY: usize = 200;

/// Where a destination's ordering key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderingKey {
    /// One stream per source.
    Source,
    /// The value at this JSON pointer (RFC 6901, not empty).
    Pointer(String),
}

impl OrderingKey {
    /// Checks `ordering.key`: `"source"` or a JSON pointer naming something inside the body.
    pub fn compile(config: &OrderingConfig) -> Result<OrderingKey, String> {
        if config.key == SOURCE_KEY {
            return Ok(OrderingKey::Source);
        }
        if config.key.is_empty() {
            return Err(format!(
                "must be {SOURCE_KEY:?} or a JSON pointer into the body, e.g. \"/data/object/customer\""
            ));
        }
        Ok(OrderingKey::Pointer(check_pointer(&config.key)?.to_owned()))
    }

    /// The event's key: the source id, or the pointed-at value (a string as it is, a number or
    /// boolean as its JSON text, an object or array as its compact JSON). `None` (unordered)
    /// when the body is not JSON or the value is absent or null.
    pub fn of(&self, source_id: &str, input: &RouteInput) -> Option<String> {
        let key = match self {
            OrderingKey::Source => source_id.to_owned(),
            OrderingKey::Pointer(pointer) => match input.json()?.pointer(pointer)? {
                Value::Null => return None,
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
        };
        Some(stored_key(key))
    }
}

fn stored_key(key: String) -> String {
    if key.len() <= MAX_STORED_KEY {
        return key;
    }
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OnDead;

    fn key(text: &str) -> Result<OrderingKey, String> {
        OrderingKey::compile(&OrderingConfig {
            key: text.into(),
            on_dead: OnDead::Block,
        })
    }

    fn key_of(pointer: &str, body: &str) -> Option<String> {
        let headers: Vec<(String, String)> = Vec::new();
        let input = RouteInput::new(None, &headers, body.as_bytes());
        key(pointer).unwrap().of("stripe", &input)
    }

    #[test]
    fn compile_accepts_source_and_pointers_and_refuses_the_rest() {
        assert_eq!(key("source"), Ok(OrderingKey::Source));
        assert_eq!(key("/a/b"), Ok(OrderingKey::Pointer("/a/b".into())));
        assert!(key("").unwrap_err().contains("JSON pointer"));
        assert!(key("data/id").unwrap_err().contains("must start with `/`"));
        assert!(key("/a~2").unwrap_err().contains("`~`"));
    }

    #[test]
    fn of_reads_strings_as_they_are_and_other_values_as_json() {
        assert_eq!(key_of("/c", r#"{"c":"cus_1"}"#).as_deref(), Some("cus_1"));
        assert_eq!(key_of("/c", r#"{"c":42}"#).as_deref(), Some("42"));
        assert_eq!(
            key_of("/c", r#"{"c":{"a":1}}"#).as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(key_of("source", "not json").as_deref(), Some("stripe"));
    }

    #[test]
    fn of_is_none_without_a_value() {
        assert_eq!(key_of("/c", r#"{"c":null}"#), None);
        assert_eq!(key_of("/c", r#"{"d":1}"#), None);
        assert_eq!(key_of("/c", "not json"), None);
    }

    #[test]
    fn long_keys_are_stored_as_their_digest() {
        let long = "k".repeat(MAX_STORED_KEY + 1);
        let stored = key_of("/c", &format!(r#"{{"c":"{long}"}}"#)).unwrap();
        assert!(stored.starts_with("sha256:") && stored.len() == 7 + 64);
        let other = key_of("/c", &format!(r#"{{"c":"{long}x"}}"#)).unwrap();
        assert_ne!(stored, other);
    }
}
