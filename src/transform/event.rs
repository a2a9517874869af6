//! What a transform receives and what its answer means.
//!
//! In: `{ body, raw_body, headers, source, event_type, event_id, provider_event_id,
//! received_at }`: `body` the parsed JSON or null, `raw_body` the body as text when it is UTF-8
//! or null, `headers` lower-case names (as stored: repeated ones joined with ", "),
//! `received_at` RFC 3339, `event_id` hookgate's id.
//!
//! Out: `null` skips the delivery; an object `{ body, headers, path }` (each optional) says what
//! to send instead: a `body` string is sent as is with the original Content-Type, any other
//! JSON value as JSON with `application/json`; `headers` add or replace request headers
//! (except `Idempotency-Key` and `X-Hookgate-*`, which stay hookgate's); `path` is appended to
//! the destination URL's path.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// The stored event a transform looks at.
pub struct EventView<'a> {
    pub body: &'a [u8],
    /// A JSON object of lower-case names, as stored.
    pub headers: &'a RawValue,
    pub source: &'a str,
    pub event_type: Option<&'a str>,
    pub event_id: Uuid,
    pub provider_event_id: &'a str,
    pub received_at: OffsetDateTime,
}

/// The handler's argument. The body and headers are copied in as the JSON text they are,
/// checked but never parsed into a tree and written out again: that is most of a small
/// transform's cost otherwise.
#[derive(Serialize)]
struct Input<'a> {
    body: Option<&'a RawValue>,
    raw_body: Option<&'a str>,
    headers: &'a RawValue,
    source: &'a str,
    event_type: Option<&'a str>,
    event_id: Uuid,
    provider_event_id: &'a str,
    received_at: String,
}

/// The handler's argument, as JSON text.
pub fn input_json(event: &EventView) -> String {
    let raw_body = std::str::from_utf8(event.body).ok();
    let input = Input {
        body: raw_body.and_then(|text| serde_json::from_str(text.trim()).ok()),
        raw_body,
        headers: event.headers,
        source: event.source,
        event_type: event.event_type,
        event_id: event.event_id,
        provider_event_id: event.provider_event_id,
        received_at: event.received_at.format(&Rfc3339).unwrap_or_default(),
    };
    serde_json::to_string(&input).expect("strings, ids and checked JSON always serialize")
}

/// What the handler decided.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// `null`: no delivery to this destination.
    Skip,
    Deliver(Reshaped),
}

/// The delivery as the handler reshaped it; `None` parts stay as they were.
#[derive(Debug, Default, PartialEq)]
pub struct Reshaped {
    pub body: Option<Bytes>,
    /// Set with a JSON body; returned headers may override it.
    pub content_type: Option<String>,
    /// Lower-case names; never `idempotency-key` or `x-hookgate-*`.
    pub headers: Vec<(String, String)>,
    pub path: Option<String>,
}

/// Reads the handler's answer (JSON text); the error says what is wrong with it.
pub fn parse_output(text: &str) -> Result<Verdict, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|err| format!("the answer is not JSON: {err}"))?;
    let object = match value {
        Value::Null => return Ok(Verdict::Skip),
        Value::Object(object) => object,
        other => {
            return Err(format!(
                "handler returned {other}: return an object {{ body, headers, path }}, or null to skip"
            ));
        }
    };
    let mut reshaped = Reshaped::default();
    for (key, value) in object {
        match key.as_str() {
            "body" => {
                let (body, content_type) = body(value);
                reshaped.body = Some(body);
                reshaped.content_type = content_type;
            }
            "headers" => reshaped.headers = headers(value)?,
            "path" => reshaped.path = Some(path(value)?),
            other => {
                return Err(format!(
                    "unknown key {other:?} in the answer: only body, headers and path"
                ));
            }
        }
    }
    Ok(Verdict::Deliver(reshaped))
}

fn body(value: Value) -> (Bytes, Option<String>) {
    match value {
        Value::String(text) => (Bytes::from(text), None),
        other => (
            Bytes::from(other.to_string()),
            Some("application/json".to_owned()),
        ),
    }
}

fn headers(value: Value) -> Result<Vec<(String, String)>, String> {
    let Value::Object(headers) = value else {
        return Err("headers must be an object of name: value".into());
    };
    let mut kept = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let value = match value {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            other => return Err(format!("header {name:?} must be a string, not {other}")),
        };
        let valid_name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok();
        if !valid_name || reqwest::header::HeaderValue::from_str(&value).is_err() {
            return Err(format!(
                "header {name:?}: not a valid header name and value"
            ));
        }
        if name != "idempotency-key" && !name.starts_with("x-hookgate-") {
            kept.push((name, value));
        }
    }
    Ok(kept)
}

fn path(value: Value) -> Result<String, String> {
    match value {
        Value::String(path) if path.starts_with('/') && !path.contains(['?', '#']) => Ok(path),
        other => Err(format!(
            "path {other} must be a string starting with / (no query or fragment)"
        )),
    }
}
