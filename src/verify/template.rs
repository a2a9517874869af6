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
    /// `{…|lower}`: a header, query parameter or id, ASCII lower-cased (Mercado Pago signs an
    /// alphanumeric `data.id` in lower case).
    Lower(Box<Part>),
}

/// A part of the template, or an optional group of parts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Always(Part),
    /// `[…]`: omitted whole when a value it reads is absent or empty (Mercado Pago leaves out
    /// `id:…;` or `request-id:…;` when the request has no such value).
    Optional(Vec<Part>),
}

impl Part {
    /// Whether this part reads a value the request may lack (what makes a `[…]` group omissible).
    fn reads_request_value(&self) -> bool {
        matches!(
            self,
            Part::Id | Part::Header(_) | Part::Query(_) | Part::Json(_) | Part::Lower(_)
        )
    }
}

/// A compiled template over `{body}`, `{timestamp}`, `{id}`, `{url}`, `{header:Name}`,
/// `{query:name}` and `{json:/pointer}`, with `{…|lower}` and optional `[…]` groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    pieces: Vec<Piece>,
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
    /// Compiles `text`; the error says which placeholder or group is wrong. `[` opens an
    /// optional group and `]` closes it; groups do not nest and hold at least one placeholder.
    pub(super) fn compile(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut group: Option<Vec<Part>> = None;
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(['{', '[', ']']) {
            literal.push_str(&rest[..at]);
            let open = rest.as_bytes()[at];
            rest = &rest[at + 1..];
            flush(&mut literal, &mut group, &mut pieces);
            match open {
                b'{' => {
                    let close = rest
                        .find('}')
                        .ok_or_else(|| format!("unclosed `{{` in {text:?}"))?;
                    let part = Self::placeholder(&rest[..close])?;
                    match group.as_mut() {
                        Some(group) => group.push(part),
                        None => pieces.push(Piece::Always(part)),
                    }
                    rest = &rest[close + 1..];
                }
                b'[' if group.is_some() => return Err(format!("nested `[` in {text:?}")),
                b'[' => group = Some(Vec::new()),
                _ => {
                    let inner = group
                        .take()
                        .ok_or_else(|| format!("`]` without `[` in {text:?}"))?;
                    if !inner.iter().any(Part::reads_request_value) {
                        return Err(format!(
                            "an optional `[…]` group needs a {{header:…}}, {{query:…}}, {{id}} or {{json:…}} in {text:?}"
                        ));
                    }
                    pieces.push(Piece::Optional(inner));
                }
            }
        }
        if group.is_some() {
            return Err(format!("unclosed `[` in {text:?}"));
        }
        literal.push_str(rest);
        flush(&mut literal, &mut group, &mut pieces);
        if pieces.is_empty() {
            return Err("the signed string is empty".to_string());
        }
        Ok(Template { pieces })
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
        if let Some(inner) = name.strip_suffix("|lower") {
            return match Self::placeholder(inner)? {
                part @ (Part::Id | Part::Header(_) | Part::Query(_)) => {
                    Ok(Part::Lower(Box::new(part)))
                }
                _ => Err(format!(
                    "`|lower` only applies to {{id}}, {{header:…}} and {{query:…}}, not `{{{name}}}`"
                )),
            };
        }
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
        self.leaves().any(|part| matches!(part, Part::Json(_)))
    }

    /// Whether the template signs the timestamp.
    pub(super) fn uses_timestamp(&self) -> bool {
        self.leaves().any(|part| *part == Part::Timestamp)
    }

    /// Whether the template signs the event id.
    pub(super) fn uses_id(&self) -> bool {
        self.leaves().any(|part| *part == Part::Id)
    }

    /// Every placeholder and literal, inside groups and `|lower` too.
    fn leaves(&self) -> impl Iterator<Item = &Part> {
        fn unwrap(part: &Part) -> &Part {
            match part {
                Part::Lower(inner) => inner,
                other => other,
            }
        }
        self.pieces
            .iter()
            .flat_map(|piece| match piece {
                Piece::Optional(group) => group.as_slice(),
                Piece::Always(part) => std::slice::from_ref(part),
            })
            .map(unwrap)
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
        let signed = self.leaves().filter_map(|part| match part {
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
        for piece in &self.pieces {
            match piece {
                Piece::Always(part) => sink(&value(part, values)?),
                Piece::Optional(group) => {
                    if let Some(bytes) = present(group, values)? {
                        bytes.iter().for_each(|bytes| sink(bytes));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The values of an optional group's parts; `None` when one it reads is absent or empty.
fn present<'v>(
    group: &'v [Part],
    values: &Values<'v>,
) -> Result<Option<Vec<Cow<'v, [u8]>>>, Rejection> {
    let mut pieces = Vec::with_capacity(group.len());
    for part in group {
        match value(part, values) {
            Ok(bytes) if bytes.is_empty() && part.reads_request_value() => return Ok(None),
            Ok(bytes) => pieces.push(bytes),
            Err(Rejection::MissingSignature | Rejection::MissingTimestamp) => return Ok(None),
            Err(other) => return Err(other),
        }
    }
    Ok(Some(pieces))
}

/// The bytes one (non-group) part stands for. A value the request lacks is a missing
/// signature: the signature cannot be checked without it.
fn value<'v>(part: &'v Part, values: &Values<'v>) -> Result<Cow<'v, [u8]>, Rejection> {
    Ok(match part {
        Part::Literal(text) => Cow::Borrowed(text),
        Part::Body => Cow::Borrowed(values.body),
        Part::Url => Cow::Borrowed(values.url.as_bytes()),
        Part::Timestamp => Cow::Borrowed(values.timestamp.ok_or(Rejection::MissingTimestamp)?),
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
        Part::Lower(inner) => Cow::Owned(value(inner, values)?.to_ascii_lowercase()),
    })
}

/// Moves pending literal text into the open group, or else the template.
fn flush(literal: &mut String, group: &mut Option<Vec<Part>>, pieces: &mut Vec<Piece>) {
    if literal.is_empty() {
        return;
    }
    let part = Part::Literal(std::mem::take(literal).into_bytes().into());
    match group {
        Some(group) => group.push(part),
        None => pieces.push(Piece::Always(part)),
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
            "[{body}]",
            "[ts:{timestamp}]",
            "[{id}",
            "{id}]",
            "[[{id}]]",
            "[a[{id}]]",
            "{body|lower}",
            "{timestamp|lower}",
            "{json:/a|lower}",
            "{|lower}",
        ] {
            assert!(
                Template::compile(bad).is_err(),
                "{bad:?} should not compile"
            );
        }
    }

    #[test]
    fn optional_groups_are_left_out_when_a_value_is_absent_or_empty() {
        let template =
            "[id:{query:data.id|lower};][request-id:{header:x-request-id};]ts:{timestamp};";
        let with = |url: &'static str, request_id: Option<&str>| {
            let headers: Vec<(String, String)> = request_id
                .map(|id| ("X-Request-Id".to_string(), id.to_string()))
                .into_iter()
                .collect();
            let values = Values {
                body: b"",
                url,
                timestamp: Some(b"1704908010"),
                id: None,
                headers: &headers,
                json: None,
            };
            render(template, &values).map(|bytes| String::from_utf8(bytes).unwrap())
        };
        let url = "https://h/mp?data.id=ORD01JQ4S4KY8&type=order";
        assert_eq!(
            with(url, Some("Req-1")).unwrap(),
            "id:ord01jq4s4ky8;request-id:Req-1;ts:1704908010;"
        );
        assert_eq!(with(url, None).unwrap(), "id:ord01jq4s4ky8;ts:1704908010;");
        assert_eq!(
            with(url, Some("")).unwrap(),
            "id:ord01jq4s4ky8;ts:1704908010;"
        );
        assert_eq!(
            with("https://h/mp?type=payment", Some("r")).unwrap(),
            "request-id:r;ts:1704908010;"
        );
        assert_eq!(
            with("https://h/mp?data.id=&type=payment", None).unwrap(),
            "ts:1704908010;"
        );
        // Outside a group an absent value is still a refusal.
        let headers: Vec<(String, String)> = Vec::new();
        let values = Values {
            body: b"",
            url: "https://h/mp",
            timestamp: None,
            id: None,
            headers: &headers,
            json: None,
        };
        assert_eq!(render(template, &values), Err(Rejection::MissingTimestamp));
        assert_eq!(
            render("{header:X|lower}", &values),
            Err(Rejection::MissingSignature)
        );
        let compiled = Template::compile(template).unwrap();
        assert!(compiled.uses_timestamp() && !compiled.uses_id());
        assert_eq!(
            compiled.read_headers("x-signature", None, None),
            ["x-signature", "x-request-id"]
        );
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
