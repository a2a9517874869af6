//! Request bodies that must be a JSON object.
//!
//! serde's derived structs also accept a JSON array, filling the fields in order (and, where
//! every field has a default, `[]` is the empty struct): a bulk replay posted `[null, null]`
//! would replay everything. Bodies are therefore read as an object first.

use serde::de::{DeserializeOwned, Error as _};
use serde_json::Value;

/// Deserializes `body` into `T`, refusing anything but a JSON object.
pub fn from_json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    match serde_json::from_slice(body)? {
        object @ Value::Object(_) => serde_json::from_value(object),
        other => Err(serde_json::Error::custom(format!(
            "expected a JSON object, not {}",
            kind(&other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    struct Filter {
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        destination: Option<String>,
    }

    #[test]
    fn an_object_is_read_and_anything_else_is_refused_by_kind() {
        let filter: Filter = from_json_object(br#"{"source":"github"}"#).unwrap();
        assert_eq!(filter.source.as_deref(), Some("github"));
        // What serde alone would take for a Filter.
        assert_eq!(
            serde_json::from_slice::<Filter>(b"[]").unwrap(),
            Filter::default()
        );
        for (body, kind) in [
            (&b"[]"[..], "an array"),
            (b"[null, null]", "an array"),
            (b"null", "null"),
            (b"\"github\"", "a string"),
            (b"7", "a number"),
        ] {
            let err = from_json_object::<Filter>(body).unwrap_err().to_string();
            assert_eq!(err, format!("expected a JSON object, not {kind}"));
        }
        assert!(from_json_object::<Filter>(b"{").is_err());
    }
}
