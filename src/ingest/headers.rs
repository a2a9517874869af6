//! The request headers as verification sees them and as they are stored.

use crate::routes::HeaderValues;
use crate::verify::HeaderSource;
use actix_web::http::header::HeaderMap;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Lets verification read actix's header map.
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl HeaderSource for ActixHeaders<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(|value| value.as_bytes())
    }

    fn is_repeated(&self, name: &str) -> bool {
        self.0.get_all(name).nth(1).is_some()
    }
}

/// Lets filters read actix's header map: repeated headers joined with ", ", as stored.
impl HeaderValues for ActixHeaders<'_> {
    fn joined(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut values = self
            .0
            .get_all(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()));
        let first = values.next()?;
        Some(values.fold(first, |joined, next| {
            Cow::Owned(format!("{joined}, {next}"))
        }))
    }
}

/// Headers that carry credentials: never stored, logged or shown.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

/// Whether a header is withheld from storage and display.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&name.as_str()) || name.contains("secret") || name.contains("password")
}

/// The headers worth keeping, as a JSON object of lowercase name → value (repeated headers
/// joined with ", "; bytes that are not UTF-8 replaced).
pub fn to_stored_json(headers: &HeaderMap) -> String {
    let mut object = Map::new();
    for (name, value) in headers.iter() {
        if is_secret_header(name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        match object.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                object.insert(name.as_str().to_owned(), Value::String(value.into_owned()));
            }
        }
    }
    Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn map(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn credentials_are_dropped_and_the_rest_kept() {
        let headers = map(&[
            ("authorization", b"Bearer s3cr3t"),
            ("x-client-secret", b"s3cr3t"),
            ("stripe-signature", b"t=1,v1=ab"),
            ("content-type", b"application/json"),
        ]);
        let stored: Value = serde_json::from_str(&to_stored_json(&headers)).unwrap();
        assert_eq!(stored["stripe-signature"], "t=1,v1=ab");
        assert_eq!(stored["content-type"], "application/json");
        assert!(stored.get("authorization").is_none());
        assert!(stored.get("x-client-secret").is_none());
    }

    #[test]
    fn repeated_and_non_utf8_headers_are_kept_readably() {
        let headers = map(&[("x-a", b"one"), ("x-a", b"two"), ("x-b", b"\xff\xfe")]);
        let stored: Value = serde_json::from_str(&to_stored_json(&headers)).unwrap();
        assert_eq!(stored["x-a"], "one, two");
        assert_eq!(stored["x-b"], "\u{fffd}\u{fffd}");
    }
}
