//! `scheme = "body-signature"`: the signature and what it signs travel inside the JSON body, as
//! with Mailgun (`signature.{timestamp,token,signature}`) and Adyen (an `hmacSignature` in each
//! notification item). The provider file says where the signed items are, which fields are joined
//! how (`{json:/pointer}` placeholders of the signed-string template), where each signature and
//! timestamp is, and the hash and encodings; nothing here is specific to one provider.

use serde_json::Value;

use super::error::Invalid;
use super::key::{SecretFormat, SecretKey};
use super::mac::{Algorithm, DecodedSignature, Digest, Encoding};
use super::schema::{HeaderFormat, ProviderFile};
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::template::{Template, Values};
use super::timestamp::{self, TimestampFormat};
use super::{Rejection, Request};

const CONTEXT: &str = "with scheme = \"body-signature\"";

/// Where the signed items are in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Items {
    /// The whole body is the one signed item (Mailgun).
    Whole,
    /// Each element of the array at `array`, then `item` within it (Adyen's
    /// `/notificationItems/*/NotificationRequestItem`); every one must verify.
    Each { array: String, item: String },
}

impl Items {
    fn compile(spec: Option<&str>) -> Result<Items, Invalid> {
        let Some(spec) = spec else {
            return Ok(Items::Whole);
        };
        let invalid = || {
            Invalid::new(
                "signature.items",
                "must be a JSON pointer with one `/*` step for the array, e.g. \"/notificationItems/*/NotificationRequestItem\"",
            )
        };
        let (array, item) = match spec.split_once("/*") {
            Some((array, item)) if item.is_empty() || item.starts_with('/') => (array, item),
            _ => return Err(invalid()),
        };
        if !array.starts_with('/') || item.contains("/*") {
            return Err(invalid());
        }
        Ok(Items::Each {
            array: array.to_string(),
            item: item.to_string(),
        })
    }

    /// The signed items of `body`: missing when there are none, or one lacks the item.
    fn select<'v>(&self, body: &'v Value) -> Result<Vec<&'v Value>, Rejection> {
        let Items::Each { array, item } = self else {
            return Ok(vec![body]);
        };
        let elements = match body.pointer(array) {
            Some(Value::Array(elements)) if !elements.is_empty() => elements,
            _ => return Err(Rejection::MissingSignature),
        };
        elements
            .iter()
            .map(|element| element.pointer(item).ok_or(Rejection::MissingSignature))
            .collect()
    }

    /// The same items, to be written by `sign`.
    fn select_mut<'v>(&self, body: &'v mut Value) -> Result<Vec<&'v mut Value>, String> {
        let Items::Each { array, item } = self else {
            return Ok(vec![body]);
        };
        let elements = body
            .pointer_mut(array)
            .and_then(Value::as_array_mut)
            .ok_or_else(|| format!("the body has no array at {array}"))?;
        elements
            .iter_mut()
            .map(|element| {
                element
                    .pointer_mut(item)
                    .ok_or_else(|| format!("an element of {array} has no {item}"))
            })
            .collect()
    }
}

/// A signed timestamp inside each item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TimestampRule {
    pointer: String,
    format: TimestampFormat,
    tolerance_secs: u64,
}

/// A compiled `body-signature` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BodySignatureScheme {
    secret: SecretFormat,
    algorithm: Algorithm,
    encoding: Encoding,
    template: Template,
    items: Items,
    /// Where the signature is within an item.
    signature: String,
    timestamp: Option<TimestampRule>,
}

impl BodySignatureScheme {
    pub(super) fn compile(file: &ProviderFile) -> Result<BodySignatureScheme, Invalid> {
        let required = |key| Invalid::new(key, format!("required {CONTEXT}"));
        let spec = &file.signature;
        spec.reject_unused("body-signature", &["signature.pointer", "signature.items"])?;
        for (key, set) in [
            ("signature.header", spec.header.is_some()),
            ("signature.prefix", spec.prefix.is_some()),
            ("signature.format", spec.format != HeaderFormat::Value),
            ("signature.pair_separator", spec.pair_separator.is_some()),
            ("signature.kv_separator", spec.kv_separator.is_some()),
            ("signature.keys", spec.keys.is_some()),
        ] {
            Invalid::reject_if(set, key, CONTEXT)?;
        }
        let template = Template::compile(file.signed.as_deref().ok_or_else(|| required("signed"))?)
            .map_err(|reason| Invalid::new("signed", reason))?;
        if template.uses_timestamp() || template.uses_id() {
            return Err(Invalid::new(
                "signed",
                format!("name signed fields with {{json:/pointer}} {CONTEXT}"),
            ));
        }
        let timestamp = match &file.timestamp {
            None => None,
            Some(stamp) => {
                Invalid::reject_if(stamp.header.is_some(), "timestamp.header", CONTEXT)?;
                Invalid::reject_if(stamp.key.is_some(), "timestamp.key", CONTEXT)?;
                Some(TimestampRule {
                    pointer: pointer(stamp.pointer.as_deref(), "timestamp.pointer")?,
                    format: stamp.format,
                    tolerance_secs: stamp.tolerance_secs,
                })
            }
        };
        Ok(BodySignatureScheme {
            secret: SecretFormat::new(&file.secret),
            algorithm: file.algorithm.ok_or_else(|| required("algorithm"))?,
            encoding: spec
                .encoding
                .ok_or_else(|| required("signature.encoding"))?,
            template,
            items: Items::compile(spec.items.as_deref())?,
            signature: pointer(spec.pointer.as_deref(), "signature.pointer")?,
            timestamp,
        })
    }

    fn digest(&self, key: &SecretKey, item: &Value, req: &Request<'_>) -> Option<Digest> {
        let mut mac = key.keyed_mac()?;
        let values = Values {
            body: req.body,
            url: req.url,
            timestamp: None,
            id: None,
            headers: req.headers,
            json: Some(item),
        };
        self.template
            .render(&values, |bytes| mac.update(bytes))
            .ok()?;
        Some(mac.finalize())
    }

    /// The item's signature, decoded: missing when absent, malformed when not decodable text.
    fn signature(&self, item: &Value) -> Result<DecodedSignature, Rejection> {
        match item.pointer(&self.signature) {
            None | Some(Value::Null) => Err(Rejection::MissingSignature),
            Some(Value::String(text)) => {
                DecodedSignature::decode(self.encoding, text.trim().as_bytes())
                    .ok_or(Rejection::MalformedSignature)
            }
            Some(_) => Err(Rejection::MalformedSignature),
        }
    }
}

/// A required JSON pointer (RFC 6901) key.
fn pointer(value: Option<&str>, key: &'static str) -> Result<String, Invalid> {
    match value {
        Some(pointer) if pointer.starts_with('/') => Ok(pointer.to_string()),
        Some(_) => Err(Invalid::new(key, "must start with `/` (RFC 6901)")),
        None => Err(Invalid::new(key, format!("required {CONTEXT}"))),
    }
}

impl TimestampRule {
    /// Checks the item's timestamp (a string or a number) against the tolerance.
    fn check(&self, item: &Value, now_unix: i64, tolerance: Option<u64>) -> Result<(), Rejection> {
        let unix = match item.pointer(&self.pointer) {
            None | Some(Value::Null) => return Err(Rejection::MissingTimestamp),
            Some(Value::String(text)) => self.format.parse(text.as_bytes())?,
            Some(Value::Number(number)) => self.format.parse(number.to_string().as_bytes())?,
            Some(_) => return Err(Rejection::MalformedTimestamp),
        };
        timestamp::check(unix, now_unix, tolerance.unwrap_or(self.tolerance_secs))
    }
}

impl Scheme for BodySignatureScheme {
    fn name(&self) -> &'static str {
        "body-signature"
    }

    /// The signature and what it signs are inside the JSON body: no header.
    fn headers(&self) -> Vec<&str> {
        Vec::new()
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        Ok(SecretKey::mac(self.algorithm, &self.secret.bytes(secret)?))
    }

    fn default_tolerance_secs(&self) -> Option<u64> {
        self.timestamp.as_ref().map(|rule| rule.tolerance_secs)
    }

    /// A body that is not JSON (or nested past serde_json's depth limit) is malformed; then every
    /// item's signature and timestamp are checked; a key matches when every item verifies with it.
    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let body: Value =
            serde_json::from_slice(req.body).map_err(|_| Rejection::MalformedSignature)?;
        let items = self.items.select(&body)?;
        let mut signed = Vec::with_capacity(items.len());
        for item in items {
            let signature = self.signature(item)?;
            signed.push((item, signature));
        }
        if let Some(rule) = &self.timestamp {
            for (item, _) in &signed {
                rule.check(item, req.now_unix, tolerance_secs)?;
            }
        }
        keys.iter()
            .position(|key| {
                signed.iter().all(|(item, signature)| {
                    self.digest(key, item, req)
                        .is_some_and(|digest| signature.matches(&digest))
                })
            })
            .ok_or(Rejection::SignatureMismatch)
    }

    /// Writes the timestamp (when signed) and the signature into every item of a JSON body.
    fn sign(&self, secret: &str, now_unix: i64, request: &mut SignedRequest) -> Result<(), String> {
        let key = self.decode_key(secret)?;
        let mut body: Value =
            serde_json::from_slice(&request.body).map_err(|_| "the body is not JSON")?;
        let headers = &request.headers;
        for item in self.items.select_mut(&mut body)? {
            if let Some(rule) = &self.timestamp {
                let stamp = Value::String(rule.format.format(now_unix)?);
                set_pointer(item, &rule.pointer, stamp)?;
            }
            let req = Request {
                headers,
                body: &request.body,
                url: &request.url,
                now_unix,
                options: super::SourceOptions::NONE,
                certificate: None,
            };
            let digest = self
                .digest(&key, item, &req)
                .ok_or("a signed field is an object or array, or needs a query parameter")?;
            let signature = Value::String(self.encoding.encode(digest.as_bytes()));
            set_pointer(item, &self.signature, signature)?;
        }
        request.body = serde_json::to_vec(&body).map_err(|error| error.to_string())?;
        Ok(())
    }
}

/// Sets the field at `pointer` in `target`, creating the objects on the way.
fn set_pointer(target: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let mut current = target;
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = tokens.split_last() else {
        return Err("an empty pointer".to_string());
    };
    for token in path {
        current = current
            .as_object_mut()
            .ok_or_else(|| format!("{pointer} crosses a value that is not an object"))?
            .entry(token.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    current
        .as_object_mut()
        .ok_or_else(|| format!("{pointer} crosses a value that is not an object"))?
        .insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_pointers_compile_with_one_wildcard() {
        assert_eq!(Items::compile(None).unwrap(), Items::Whole);
        assert_eq!(
            Items::compile(Some("/notificationItems/*/NotificationRequestItem")).unwrap(),
            Items::Each {
                array: "/notificationItems".into(),
                item: "/NotificationRequestItem".into()
            }
        );
        assert_eq!(
            Items::compile(Some("/list/*")).unwrap(),
            Items::Each {
                array: "/list".into(),
                item: String::new()
            }
        );
        for bad in ["/a", "a/*", "/a/*x", "/a/*/b/*", "*"] {
            assert!(Items::compile(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn items_are_all_or_nothing() {
        let items = Items::compile(Some("/n/*/item")).unwrap();
        let two = serde_json::json!({"n": [{"item": 1}, {"item": 2}]});
        assert_eq!(items.select(&two).unwrap().len(), 2);
        for missing in [
            serde_json::json!({"n": []}),
            serde_json::json!({"n": {"item": 1}}),
            serde_json::json!({"n": [{"item": 1}, {"other": 2}]}),
            serde_json::json!("text"),
        ] {
            assert_eq!(
                items.select(&missing).unwrap_err(),
                Rejection::MissingSignature
            );
        }
    }

    #[test]
    fn set_pointer_creates_objects_and_unescapes() {
        let mut value = serde_json::json!({"a": {"keep": 1}});
        set_pointer(&mut value, "/a/b~1c/d", Value::from("x")).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": {"keep": 1, "b/c": {"d": "x"}}})
        );
        let mut scalar = serde_json::json!({"a": 1});
        assert!(set_pointer(&mut scalar, "/a/b", Value::Null).is_err());
    }
}
