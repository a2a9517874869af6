//! How a message's body travels in a lease's JSON: as the JSON value itself when the body is
//! exactly one (embedded byte for byte, so nothing is re-encoded), else base64. Either way the
//! consumer gets the original bytes back ([`decode`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// How `body` is encoded in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// `body` is the payload itself, a JSON value.
    Json,
    /// `body` is a string: the payload's bytes in standard base64.
    Base64,
}

/// `body` as a JSON value to embed, and how it was encoded. A body that is JSON with anything
/// around the value (a trailing newline, say) goes as base64, so the bytes come back exactly.
pub fn encode(body: &[u8]) -> (Box<RawValue>, BodyEncoding) {
    let embedded = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str::<&RawValue>(text).ok())
        .filter(|raw| raw.get().len() == body.len())
        .map(RawValue::to_owned);
    match embedded {
        Some(raw) => (raw, BodyEncoding::Json),
        None => {
            let text = STANDARD.encode(body);
            let raw = serde_json::value::to_raw_value(&text).expect("a string serializes");
            (raw, BodyEncoding::Base64)
        }
    }
}

/// The original bytes of a body `encode` made.
pub fn decode(body: &RawValue, encoding: BodyEncoding) -> Result<Vec<u8>, String> {
    match encoding {
        BodyEncoding::Json => Ok(body.get().as_bytes().to_vec()),
        BodyEncoding::Base64 => {
            let text: String = serde_json::from_str(body.get())
                .map_err(|err| format!("a base64 body must be a string: {err}"))?;
            STANDARD
                .decode(text)
                .map_err(|err| format!("a base64 body does not decode: {err}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(body: &[u8]) -> BodyEncoding {
        #[derive(Serialize, Deserialize)]
        struct Message {
            body: Box<RawValue>,
        }
        let (raw, encoding) = encode(body);
        // Through a whole JSON document, as a consumer receives it.
        let document = serde_json::to_string(&Message { body: raw }).unwrap();
        let message: Message = serde_json::from_str(&document).unwrap();
        assert_eq!(decode(&message.body, encoding).unwrap(), body);
        encoding
    }

    #[test]
    fn a_json_body_travels_as_itself_byte_for_byte() {
        for body in [
            &br#"{"b":1,"a":[1.50,"x"]}"#[..],
            br#"{ "pretty" :
                  true }"#,
            b"[]",
            b"12345678901234567890123",
            br#""a string""#,
        ] {
            assert_eq!(round_trip(body), BodyEncoding::Json, "{body:?}");
        }
    }

    #[test]
    fn anything_else_travels_as_base64() {
        for body in [
            &b"{\"a\":1}\n"[..],
            b"",
            b"amount=42&currency=eur",
            b"\x00\xff\x80 binary",
            b"{\"a\":",
        ] {
            assert_eq!(round_trip(body), BodyEncoding::Base64, "{body:?}");
        }
    }

    #[test]
    fn a_base64_body_that_is_not_a_base64_string_is_an_error() {
        let number = serde_json::value::to_raw_value(&7).unwrap();
        assert!(decode(&number, BodyEncoding::Base64).is_err());
        let garbage = serde_json::value::to_raw_value("%%%").unwrap();
        assert!(decode(&garbage, BodyEncoding::Base64).is_err());
    }
}
