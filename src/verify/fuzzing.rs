//! Entry points for the fuzz targets under `fuzz/` (not part of hookgate's API).
//!
//! Every parser of untrusted bytes is reachable through [`Provider::verify`], but some only
//! behind a network fetch (the signing certificate of AWS SNS and PayPal) and others only with
//! one fixed provider file around them, which leaves a fuzzer little room to explore them. These
//! thin wrappers let a target call each such parser directly; they add no behaviour.

use std::borrow::Cow;

use serde_json::Value;

use super::body_pointer::BodyPointer;
use super::form::form_fields;
use super::template::{Template, Values};
use super::{HeaderSource, Provider, Rejection, Request, SigningCertificate};

pub use super::timestamp::TimestampFormat;

/// The URL of the certificate `req` names, once allowed for its source (what
/// [`Provider::fetch_certificate`] would fetch); `None` for providers with configured keys.
pub fn certificate_url(
    provider: &Provider,
    req: &Request<'_>,
) -> Result<Option<String>, Rejection> {
    let url = provider.scheme.certificate_url(req)?;
    Ok(url.map(String::from))
}

/// A certificate as if `pem` had been served at `url`: what the certificate cache parses.
pub fn parse_certificate(url: &str, pem: &[u8]) -> Result<SigningCertificate, String> {
    SigningCertificate::from_pem(url, pem)
}

/// A signed timestamp read in `format`, as unix seconds.
pub fn parse_timestamp(format: TimestampFormat, raw: &[u8]) -> Result<i64, Rejection> {
    format.parse(raw)
}

/// Compiles a provider file's `signed` template and renders it for one request: the bytes the
/// MAC would see. `timestamp` and `id` stand for the values a scheme extracts; `json` for the
/// item `{json:…}` reads.
pub fn render_template(
    text: &str,
    headers: &dyn HeaderSource,
    url: &str,
    body: &[u8],
    timestamp: Option<&[u8]>,
    id: Option<&[u8]>,
    json: Option<&Value>,
) -> Result<Result<Vec<u8>, Rejection>, String> {
    let template = Template::compile(text)?;
    let values = Values {
        body,
        url,
        timestamp,
        id,
        headers,
        json,
    };
    let mut rendered = Vec::new();
    Ok(template
        .render(&values, |bytes| rendered.extend_from_slice(bytes))
        .map(|()| rendered))
}

/// The fields of a form body as verification decodes them (Twilio, Braintree).
pub fn decode_form(body: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    form_fields(body).collect()
}

/// A `*` JSON pointer (Microsoft Graph's `clientState`) applied to `root`: how many values it
/// reaches, then how many members it sets to `value` (what the signer does).
pub fn apply_body_pointer(
    pointer: &str,
    root: &mut Value,
    value: &Value,
) -> Result<(usize, usize), String> {
    let pointer = BodyPointer::compile(pointer)?;
    let reached = pointer.values(root).map_or(0, |values| values.len());
    Ok((reached, pointer.set_all(root, value)))
}
