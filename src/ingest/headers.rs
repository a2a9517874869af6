//! The request headers as verification sees them and as they are stored.

use crate::routes::HeaderValues;
use crate::verify::HeaderSource;
use actix_web::http::header::HeaderMap;
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

/// Whether a header is withheld from storage and display. Asked for every header of every
/// webhook, so it compares without allocating a lowercase copy.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
        || contains_ignoring_case(name, "secret")
        || contains_ignoring_case(name, "password")
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The headers worth keeping, as a JSON object of lowercase name → value (repeated headers
/// joined with ", "; bytes that are not UTF-8 replaced).
///
/// Written straight out, name by name (names are unique in the map), rather than through a
/// `serde_json::Map`: that allocated every name and value twice for every webhook received.
pub fn to_stored_json(headers: &HeaderMap) -> String {
    let joined = ActixHeaders(headers);
    let mut json = Vec::with_capacity(1024);
    json.push(b'{');
    for name in headers
        .keys()
        .filter(|name| !is_secret_header(name.as_str()))
    {
        let Some(value) = joined.joined(name.as_str()) else {
            continue;
        };
        if json.len() > 1 {
            json.push(b',');
        }
        write_json_string(&mut json, name.as_str());
        json.push(b':');
        write_json_string(&mut json, &value);
    }
    json.push(b'}');
    String::from_utf8(json).expect("JSON strings of str are UTF-8")
}

fn write_json_string(json: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(json, text).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use serde_json::Value;

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

    #[test]
    fn secret_headers_are_recognised_in_any_case() {
        for name in [
            "Authorization",
            "COOKIE",
            "X-Client-Secret",
            "x-db-PASSWORD",
            "api-key",
        ] {
            assert!(is_secret_header(name), "{name}");
        }
        for name in [
            "stripe-signature",
            "x-hub-signature-256",
            "content-type",
            "x-secre",
        ] {
            assert!(!is_secret_header(name), "{name}");
        }
    }

    #[test]
    fn names_and_values_are_escaped_as_json_strings() {
        let headers = map(&[("x-quote", b"say \"hi\" \\ \t"), ("x-empty", b"")]);
        let stored: Value = serde_json::from_str(&to_stored_json(&headers)).unwrap();
        assert_eq!(stored["x-quote"], "say \"hi\" \\ \t");
        assert_eq!(stored["x-empty"], "");
        assert_eq!(stored.as_object().unwrap().len(), 2);
    }
}
