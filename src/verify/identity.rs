//! Where a provider puts the event id and event type, and reading them from a request.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Request;
use super::error::Invalid;
use super::schema::LocationSpec;

/// The provider's id for an event, and its type when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIdentity {
    /// The provider's event id, or the lowercase hex SHA-256 of the body when it has none.
    pub event_id: String,
    /// The event type, e.g. `invoice.paid`, when the provider states one.
    pub event_type: Option<String>,
}

/// A header name, or an RFC 6901 JSON pointer into the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Location {
    Header(String),
    Pointer(String),
}

impl Location {
    /// Builds the location from an `[event_id]` / `[event_type]` table named `table`.
    pub(super) fn compile(spec: &LocationSpec, table: &'static str) -> Result<Location, Invalid> {
        match (&spec.header, &spec.pointer) {
            (Some(header), None) if !header.is_empty() => Ok(Location::Header(header.clone())),
            (None, Some(pointer)) if pointer.is_empty() || pointer.starts_with('/') => {
                Ok(Location::Pointer(pointer.clone()))
            }
            (None, Some(_)) => Err(Invalid::new(
                table,
                "pointer must be empty or start with `/` (RFC 6901)",
            )),
            _ => Err(Invalid::new(
                table,
                "set exactly one of `header` (non-empty) or `pointer`",
            )),
        }
    }

    pub(super) fn header(&self) -> Option<&str> {
        match self {
            Location::Header(name) => Some(name),
            Location::Pointer(_) => None,
        }
    }

    fn read(&self, req: &Request<'_>, json: Option<&Value>) -> Option<String> {
        match self {
            Location::Header(name) => {
                let value = std::str::from_utf8(req.headers.header(name)?).ok()?.trim();
                (!value.is_empty()).then(|| value.to_string())
            }
            Location::Pointer(pointer) => match json?.pointer(pointer)? {
                Value::String(text) if !text.is_empty() => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            },
        }
    }
}

/// The event id and event type locations of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    pub id: Option<Location>,
    pub kind: Option<Location>,
}

impl Identity {
    /// Reads id and type, parsing the body as JSON at most once and only when a pointer needs it.
    pub(super) fn identify(&self, req: &Request<'_>) -> EventIdentity {
        let needs_json = [&self.id, &self.kind]
            .into_iter()
            .any(|location| matches!(location, Some(Location::Pointer(_))));
        let json = needs_json
            .then(|| serde_json::from_slice::<Value>(req.body).ok())
            .flatten();
        let read = |location: &Option<Location>| location.as_ref()?.read(req, json.as_ref());
        EventIdentity {
            event_id: read(&self.id).unwrap_or_else(|| hex::encode(Sha256::digest(req.body))),
            event_type: read(&self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::SourceOptions;

    fn request<'a>(headers: &'a Vec<(String, String)>, body: &'a [u8]) -> Request<'a> {
        Request {
            headers,
            body,
            url: "https://example.com/",
            now_unix: 0,
            options: SourceOptions::NONE,
            certificate: None,
        }
    }

    #[test]
    fn reads_headers_and_pointers() {
        let identity = Identity {
            id: Some(Location::Header("X-Id".into())),
            kind: Some(Location::Pointer("/event/type".into())),
        };
        let headers = vec![("x-id".to_string(), " abc ".to_string())];
        let body = br#"{"event":{"type":"message"}}"#;
        assert_eq!(
            identity.identify(&request(&headers, body)),
            EventIdentity {
                event_id: "abc".into(),
                event_type: Some("message".into())
            }
        );
    }

    #[test]
    fn numeric_ids_and_escaped_pointers() {
        let identity = Identity {
            id: Some(Location::Pointer("/a~1b".into())),
            kind: None,
        };
        let got = identity.identify(&request(&Vec::new(), br#"{"a/b":42}"#));
        assert_eq!(got.event_id, "42");
        assert_eq!(got.event_type, None);
    }

    #[test]
    fn falls_back_to_body_sha256() {
        let identity = Identity {
            id: Some(Location::Pointer("/id".into())),
            kind: Some(Location::Pointer("/type".into())),
        };
        // python3 -c "import hashlib;print(hashlib.sha256(b'{\"a\":1}').hexdigest())"
        let expected = "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862";
        assert_eq!(
            identity
                .identify(&request(&Vec::new(), br#"{"a":1}"#))
                .event_id,
            expected
        );
        let not_json = identity.identify(&request(&Vec::new(), b"\xff not json"));
        assert_eq!(not_json.event_id.len(), 64);
        assert_eq!(not_json.event_type, None);
        let no_locations = Identity {
            id: None,
            kind: None,
        };
        assert_eq!(
            no_locations
                .identify(&request(&Vec::new(), br#"{"a":1}"#))
                .event_id,
            expected
        );
    }

    #[test]
    fn compile_checks_locations() {
        let spec = |header: Option<&str>, pointer: Option<&str>| LocationSpec {
            header: header.map(Into::into),
            pointer: pointer.map(Into::into),
            example: None,
        };
        assert!(Location::compile(&spec(Some("X"), None), "event_id").is_ok());
        assert!(Location::compile(&spec(None, Some("/id")), "event_id").is_ok());
        for bad in [
            spec(None, None),
            spec(Some("X"), Some("/id")),
            spec(None, Some("id")),
            spec(Some(""), None),
        ] {
            assert!(Location::compile(&bad, "event_id").is_err());
        }
    }
}
