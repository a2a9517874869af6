//! The signed-string template: literal text and `{placeholders}`, compiled once at load time and
//! fed piece by piece into the MAC, so the body is never copied.

use super::error::Invalid;
use super::identity::Location;
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
}

/// A compiled template over `{body}`, `{timestamp}`, `{id}`, `{url}` and `{header:Name}`.
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
            _ => match name.strip_prefix("header:") {
                Some(header) if !header.is_empty() && !header.contains(char::is_whitespace) => {
                    Part::Header(header.into())
                }
                _ => {
                    return Err(format!(
                        "unknown placeholder `{{{name}}}`; expected {{body}}, {{timestamp}}, {{id}}, {{url}} or {{header:Name}}"
                    ));
                }
            },
        })
    }

    /// Whether the template signs the timestamp.
    pub(super) fn uses_timestamp(&self) -> bool {
        self.parts.contains(&Part::Timestamp)
    }

    /// Whether the template signs the event id.
    pub(super) fn uses_id(&self) -> bool {
        self.parts.contains(&Part::Id)
    }

    /// Feeds the signed string to `sink` piece by piece. A value the template needs but the
    /// request lacks is a missing signature: the signature cannot be checked without it.
    pub(super) fn render(
        &self,
        values: &Values<'_>,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<(), Rejection> {
        for part in &self.parts {
            let bytes = match part {
                Part::Literal(text) => text,
                Part::Body => values.body,
                Part::Url => values.url.as_bytes(),
                Part::Timestamp => values.timestamp.ok_or(Rejection::MissingTimestamp)?,
                Part::Id => values.id.ok_or(Rejection::MissingSignature)?,
                Part::Header(name) => values
                    .headers
                    .header(name)
                    .ok_or(Rejection::MissingSignature)?,
            };
            sink(bytes);
        }
        Ok(())
    }
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
        for bad in ["", "{body", "{bodyx}", "{header:}", "{header:a b}", "{}"] {
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
    }
}
