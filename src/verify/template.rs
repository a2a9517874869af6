//! The signed-string template: literal text and `{placeholders}`, compiled once at load time and
//! fed piece by piece into the MAC, so the body is never copied.

use std::borrow::Cow;

use serde_json::Value;
use url::form_urlencoded;

use super::error::Invalid;
use super::identity::Location;
use super::timestamp::TimestampRule;
use super::{HeaderSource, Rejection};

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Box<[u8]>),
    Body,
    Timestamp,
    Id,
    Url,
    Header(Box<str>),
    /// A query parameter of the URL, percent-decoded (Mercado Pago's `data.id`).
    Query(Box<str>),
    /// A JSON pointer into the signed item (`body-signature` only).
    Json(Box<str>),
}

/// A compiled template over `{body}`, `{timestamp}`, `{id}`, `{url}`, `{header:Name}`,
/// `{query:name}` and `{json:/pointer}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    parts: Vec<Part>,
}

/// The values a template's placeholders stand for in one request.
pub(super) struct Values<'a> {
    pub body: &'a [u8],
    pub url: &'a str,
    /// The timestamp exactly as sent (not re-formatted).
    pub timestamp: Option<&'a [u8]>,
    pub id: Option<&'a [u8]>,
    pub headers: &'a dyn HeaderSource,
    /// The signed JSON item, for `{json:…}`.
    pub json: Option<&'a Value>,
}

impl Template {
    /// Compiles `text`; the error says which placeholder is wrong.
    pub(super) fn compile(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest.as_bytes()[..open].into()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in {text:?}"))?;
            parts.push(Self::placeholder(&after[..close])?);
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.as_bytes().into()));
        }
        if parts.is_empty() {
            return Err("the signed string is empty".to_string());
        }
        Ok(Template { parts })
    }

    /// Compiles a provider file's `signed` (required by `scheme`) and checks it against the rest
    /// of the file: `{timestamp}` exactly when there is a `[timestamp]` table, `{id}` only with
    /// an `[event_id]` header. Answers the template and that id header.
    pub(super) fn for_file(
        signed: Option<&str>,
        scheme: &str,
        has_timestamp: bool,
        event_id: Option<&Location>,
    ) -> Result<(Template, Option<String>), Invalid> {
        let signed = signed.ok_or_else(|| {
            Invalid::new("signed", format!("required with scheme = \"{scheme}\""))
        })?;
        let template =
            Template::compile(signed).map_err(|reason| Invalid::new("signed", reason))?;
        if template.uses_json() {
            return Err(Invalid::new(
                "signed",
                "`{json:…}` is only read by scheme = \"body-signature\"",
            ));
        }
        if template.uses_timestamp() != has_timestamp {
            return Err(Invalid::new(
                "signed",
                "a [timestamp] table and `{timestamp}` in the signed string go together",
            ));
        }
        let id_header = event_id.and_then(Location::header).map(str::to_string);
        if template.uses_id() && id_header.is_none() {
            return Err(Invalid::new(
                "signed",
                "`{id}` needs [event_id] header = \"...\"",
            ));
        }
        Ok((template, id_header))
    }

    fn placeholder(name: &str) -> Result<Part, String> {
        Ok(match name {
            "body" => Part::Body,
            "timestamp" => Part::Timestamp,
            "id" => Part::Id,
            "url" => Part::Url,
            _ => {
                let named = |prefix: &str| {
                    name.strip_prefix(prefix)
                        .filter(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
                };
                if let Some(header) = named("header:") {
                    Part::Header(header.into())
                } else if let Some(parameter) = named("query:") {
                    Part::Query(parameter.into())
                } else if let Some(pointer) = named("json:").filter(|p| p.starts_with('/')) {
                    Part::Json(pointer.into())
                } else {
                    return Err(format!(
                        "unknown placeholder `{{{name}}}`; expected {{body}}, {{timestamp}}, {{id}}, {{url}}, {{header:Name}}, {{query:name}} or {{json:/pointer}}"
                    ));
                }
            }
        })
    }

    /// Whether the template reads the JSON body (`{json:…}`).
    pub(super) fn uses_json(&self) -> bool {
        self.parts.iter().any(|part| matches!(part, Part::Json(_)))
    }

    /// Whether the template signs the timestamp.
    pub(super) fn uses_timestamp(&self) -> bool {
        self.parts.contains(&Part::Timestamp)
    }

    /// Whether the template signs the event id.
    pub(super) fn uses_id(&self) -> bool {
        self.parts.contains(&Part::Id)
    }

    /// The headers verification of this signed string reads, for `hookgate providers`: the
    /// signature header, the timestamp's own header, `{id}`'s and every `{header:Name}`.
    pub(super) fn read_headers<'a>(
        &'a self,
        signature: &'a str,
        timestamp: Option<&'a TimestampRule>,
        id_header: Option<&'a str>,
    ) -> Vec<&'a str> {
        let timestamp = timestamp.and_then(TimestampRule::header);
        let id = id_header.filter(|_| self.uses_id());
        let signed = self.parts.iter().filter_map(|part| match part {
            Part::Header(name) => Some(&**name),
            _ => None,
        });
        std::iter::once(signature)
            .chain(timestamp)
            .chain(id)
            .chain(signed)
            .collect()
    }

    /// Feeds the signed string to `sink` piece by piece. A value the template needs but the
    /// request lacks is a missing signature: the signature cannot be checked without it.
    pub(super) fn render(
        &self,
        values: &Values<'_>,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<(), Rejection> {
        for part in &self.parts {
            let bytes: Cow<'_, [u8]> = match part {
                Part::Literal(text) => Cow::Borrowed(text),
                Part::Body => Cow::Borrowed(values.body),
                Part::Url => Cow::Borrowed(values.url.as_bytes()),
                Part::Timestamp => {
                    Cow::Borrowed(values.timestamp.ok_or(Rejection::MissingTimestamp)?)
                }
                Part::Id => Cow::Borrowed(values.id.ok_or(Rejection::MissingSignature)?),
                Part::Header(name) => Cow::Borrowed(
                    values
                        .headers
                        .header(name)
                        .ok_or(Rejection::MissingSignature)?,
                ),
                Part::Query(name) => query_parameter(values.url, name)
                    .map(|value| Cow::Owned(value.into_owned().into_bytes()))
                    .ok_or(Rejection::MissingSignature)?,
                Part::Json(pointer) => json_text(values.json, pointer)?,
            };
            sink(&bytes);
        }
        Ok(())
    }
}

/// The first value of query parameter `name` in `url`, percent-decoded.
fn query_parameter<'u>(url: &'u str, name: &str) -> Option<Cow<'u, str>> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// The text a signer joins for the value at `pointer`: a string as it is, a number or boolean as
/// JSON writes it, and nothing for `null` or an absent field (Adyen signs an absent
/// `originalReference` as empty). An object or array was never signed as text: a mismatch.
fn json_text<'v>(json: Option<&'v Value>, pointer: &str) -> Result<Cow<'v, [u8]>, Rejection> {
    let json = json.ok_or(Rejection::MissingSignature)?;
    Ok(match json.pointer(pointer) {
        None | Some(Value::Null) => Cow::Borrowed(&[]),
        Some(Value::String(text)) => Cow::Borrowed(text.as_bytes()),
        Some(Value::Number(number)) => Cow::Owned(number.to_string().into_bytes()),
        Some(Value::Bool(flag)) => Cow::Borrowed(if *flag { b"true" } else { b"false" }),
        Some(Value::Array(_) | Value::Object(_)) => return Err(Rejection::SignatureMismatch),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, values: &Values<'_>) -> Result<Vec<u8>, Rejection> {
        let mut out = Vec::new();
        Template::compile(template)
            .unwrap()
            .render(values, |bytes| out.extend_from_slice(bytes))?;
        Ok(out)
    }

    #[test]
    fn compiles_literals_and_placeholders() {
        let headers = vec![("X-Extra".to_string(), "hdr".to_string())];
        let values = Values {
            body: b"BODY",
            url: "https://h/p",
            timestamp: Some(b"123"),
            id: Some(b"msg_1"),
            headers: &headers,
            json: None,
        };
        assert_eq!(
            render("v0:{timestamp}:{body}", &values).unwrap(),
            b"v0:123:BODY"
        );
        assert_eq!(
            render("{id}.{timestamp}.{body}", &values).unwrap(),
            b"msg_1.123.BODY"
        );
        assert_eq!(
            render("{url}{body}|{header:x-extra}}", &values).unwrap(),
            b"https://h/pBODY|hdr}"
        );
        let template = Template::compile("{timestamp}.{body}").unwrap();
        assert!(template.uses_timestamp());
        assert!(!template.uses_id());
    }

    #[test]
    fn rejects_bad_templates() {
        for bad in [
            "",
            "{body",
            "{bodyx}",
            "{header:}",
            "{header:a b}",
            "{}",
            "{query:}",
            "{json:}",
            "{json:id}",
        ] {
            assert!(
                Template::compile(bad).is_err(),
                "{bad:?} should not compile"
            );
        }
    }

    #[test]
    fn missing_values_are_rejections() {
        let headers: Vec<(String, String)> = Vec::new();
        let values = Values {
            body: b"",
            url: "",
            timestamp: None,
            id: None,
            headers: &headers,
            json: None,
        };
        assert_eq!(
            render("{timestamp}", &values),
            Err(Rejection::MissingTimestamp)
        );
        assert_eq!(render("{id}", &values), Err(Rejection::MissingSignature));
        assert_eq!(
            render("{header:X}", &values),
            Err(Rejection::MissingSignature)
        );
        assert_eq!(
            render("{query:data.id}", &values),
            Err(Rejection::MissingSignature)
        );
        assert_eq!(
            render("{json:/a}", &values),
            Err(Rejection::MissingSignature)
        );
    }

    #[test]
    fn query_parameters_and_json_fields() {
        let headers: Vec<(String, String)> = Vec::new();
        let json = serde_json::json!({
            "s": "text", "n": 1130, "b": true, "z": null, "o": {"a": 1}, "l": [1]
        });
        let values = Values {
            body: b"",
            url: "https://h/p?type=payment&data.id=AB%3A1+2#frag",
            timestamp: None,
            id: None,
            headers: &headers,
            json: Some(&json),
        };
        assert_eq!(
            render("id:{query:data.id};{query:type}", &values).unwrap(),
            b"id:AB:1 2;payment"
        );
        assert_eq!(
            render(
                "{json:/s}:{json:/n}:{json:/b}:{json:/z}:{json:/absent}",
                &values
            )
            .unwrap(),
            b"text:1130:true::"
        );
        for signed_as_text in ["{json:/o}", "{json:/l}"] {
            assert_eq!(
                render(signed_as_text, &values),
                Err(Rejection::SignatureMismatch)
            );
        }
        assert!(Template::compile("{json:/s}").unwrap().uses_json());
        assert!(!Template::compile("{query:a}").unwrap().uses_json());
    }
}
