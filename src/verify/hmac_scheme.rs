//! The generic HMAC scheme: a signed-string template, a hash, a signature encoding, a header
//! layout and an optional signed timestamp, all taken from the provider file.

use super::error::Invalid;
use super::identity::Location;
use super::key::{SecretFormat, SecretKey};
use super::mac::{Algorithm, DecodedSignature, Digest, Encoding};
use super::schema::{ProviderFile, TimestampSpec};
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::signature_header::{Layout, header_name, header_value};
use super::template::{Template, Values};
use super::timestamp::{self, TimestampFormat};
use super::{HeaderSource, Rejection, Request};

/// Where the signed timestamp is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TimestampSource {
    /// Its own header, e.g. `X-Slack-Request-Timestamp`.
    Header(String),
    /// A pair of the signature header, e.g. Stripe's `t`.
    Pair(String),
    /// The first item of a `list` signature header (Recurly).
    ListHead,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TimestampRule {
    source: TimestampSource,
    format: TimestampFormat,
    tolerance_secs: u64,
}

/// A compiled generic HMAC provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HmacScheme {
    secret: SecretFormat,
    algorithm: Algorithm,
    encoding: Encoding,
    header: String,
    layout: Layout,
    template: Template,
    timestamp: Option<TimestampRule>,
    /// The header `{id}` stands for.
    id_header: Option<String>,
}

impl HmacScheme {
    /// Checks the HMAC keys of `file` against each other; `event_id` is the compiled id location.
    pub(super) fn compile(
        file: &ProviderFile,
        event_id: Option<&Location>,
    ) -> Result<HmacScheme, Invalid> {
        let context = "with scheme = \"hmac\"";
        let required = |key| Invalid::new(key, format!("required {context}"));
        let header = header_name(&file.signature, context)?;
        let algorithm = file.algorithm.ok_or_else(|| required("algorithm"))?;
        let encoding = file
            .signature
            .encoding
            .ok_or_else(|| required("signature.encoding"))?;
        let template = Template::compile(file.signed.as_deref().ok_or_else(|| required("signed"))?)
            .map_err(|reason| Invalid::new("signed", reason))?;
        let layout = Layout::compile(&file.signature)?;
        let timestamp = file
            .timestamp
            .as_ref()
            .map(|spec| Self::timestamp_rule(spec, &layout))
            .transpose()?;
        if template.uses_json() {
            return Err(Invalid::new(
                "signed",
                "`{json:…}` is only read by scheme = \"body-signature\"",
            ));
        }
        if layout.is_list() && timestamp.is_none() {
            return Err(Invalid::new(
                "timestamp",
                "required with signature.format = \"list\": its first item is the timestamp",
            ));
        }
        if template.uses_timestamp() != timestamp.is_some() {
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
        Ok(HmacScheme {
            secret: SecretFormat::new(&file.secret),
            algorithm,
            encoding,
            header,
            layout,
            template,
            timestamp,
            id_header,
        })
    }

    fn timestamp_rule(spec: &TimestampSpec, layout: &Layout) -> Result<TimestampRule, Invalid> {
        Invalid::reject_if(
            spec.pointer.is_some(),
            "timestamp.pointer",
            "with scheme = \"hmac\"",
        )?;
        let source = match (&spec.header, &spec.key) {
            (None, None) if layout.is_list() => TimestampSource::ListHead,
            (_, _) if layout.is_list() => {
                return Err(Invalid::new(
                    "timestamp",
                    "with signature.format = \"list\" the timestamp is its first item: set neither `header` nor `key`",
                ));
            }
            (Some(header), None) if !header.is_empty() => TimestampSource::Header(header.clone()),
            (None, Some(key)) if layout.has_pairs() && !key.is_empty() => {
                TimestampSource::Pair(key.clone())
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "timestamp.key",
                    "needs signature.format = \"pairs\" and a non-empty key",
                ));
            }
            _ => {
                return Err(Invalid::new(
                    "timestamp",
                    "set exactly one of `header` (non-empty) or `key`",
                ));
            }
        };
        Ok(TimestampRule {
            source,
            format: spec.format,
            tolerance_secs: spec.tolerance_secs,
        })
    }

    /// The raw timestamp, once it parses and lies within the tolerance.
    fn checked_timestamp<'r>(
        &self,
        rule: &TimestampRule,
        req: &Request<'r>,
        signature_value: &'r [u8],
        tolerance_secs: Option<u64>,
    ) -> Result<&'r [u8], Rejection> {
        let raw = match &rule.source {
            TimestampSource::Header(name) => req
                .headers
                .header(name)
                .ok_or(Rejection::MissingTimestamp)?,
            TimestampSource::Pair(key) => self.layout.pair(signature_value, key.as_bytes())?,
            TimestampSource::ListHead => self.layout.list_head(signature_value)?,
        };
        let unix = rule.format.parse(raw)?;
        timestamp::check(
            unix,
            req.now_unix,
            tolerance_secs.unwrap_or(rule.tolerance_secs),
        )?;
        Ok(raw)
    }

    fn digest(&self, key: &SecretKey, values: &Values<'_>) -> Result<Digest, Rejection> {
        let mut mac = key.keyed_mac().ok_or(Rejection::SignatureMismatch)?;
        self.template.render(values, |bytes| mac.update(bytes))?;
        Ok(mac.finalize())
    }
}

impl Scheme for HmacScheme {
    fn name(&self) -> &'static str {
        "hmac"
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        Ok(SecretKey::mac(self.algorithm, &self.secret.bytes(secret)?))
    }

    fn headers(&self) -> Vec<&str> {
        let timestamp = match self.timestamp.as_ref().map(|rule| &rule.source) {
            Some(TimestampSource::Header(name)) => Some(name.as_str()),
            _ => None,
        };
        let id = self
            .template
            .uses_id()
            .then_some(self.id_header.as_deref())
            .flatten();
        std::iter::once(self.header.as_str())
            .chain(timestamp)
            .chain(id)
            .chain(self.template.headers())
            .collect()
    }

    fn default_tolerance_secs(&self) -> Option<u64> {
        self.timestamp.as_ref().map(|rule| rule.tolerance_secs)
    }

    /// Checks header shape, then the timestamp, then every key against every signature.
    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let value = header_value(req.headers, &self.header)?;
        let decoded = |text: &[u8]| DecodedSignature::decode(self.encoding, text);
        if !self
            .layout
            .signatures(value)
            .any(|text| decoded(text).is_some())
        {
            return Err(Rejection::MalformedSignature);
        }
        let timestamp = match &self.timestamp {
            Some(rule) => Some(self.checked_timestamp(rule, req, value, tolerance_secs)?),
            None => None,
        };
        let values = Values {
            body: req.body,
            url: req.url,
            timestamp,
            id: self
                .id_header
                .as_deref()
                .and_then(|name| req.headers.header(name)),
            headers: req.headers,
            json: None,
        };
        for (index, key) in keys.iter().enumerate() {
            let digest = self.digest(key, &values)?;
            let mut signatures = self.layout.signatures(value).filter_map(decoded);
            if signatures.any(|signature| signature.matches(&digest)) {
                return Ok(index);
            }
        }
        Err(Rejection::SignatureMismatch)
    }

    fn sign(&self, secret: &str, now_unix: i64, request: &mut SignedRequest) -> Result<(), String> {
        let key = self.decode_key(secret)?;
        let format = self.timestamp.as_ref().map(|rule| rule.format);
        let timestamp = format.unwrap_or_default().format(now_unix);
        let mut timestamp_pair = None;
        let headers = &mut request.headers;
        match self.timestamp.as_ref().map(|rule| &rule.source) {
            Some(TimestampSource::Header(name)) => headers.push((name.clone(), timestamp.clone())),
            Some(TimestampSource::Pair(key)) => {
                timestamp_pair = Some((key.as_str(), timestamp.as_str()))
            }
            Some(TimestampSource::ListHead) => timestamp_pair = Some(("", timestamp.as_str())),
            None => {}
        }
        let sent: &Vec<(String, String)> = headers;
        let values = Values {
            body: &request.body,
            url: &request.url,
            timestamp: Some(timestamp.as_bytes()),
            id: self.id_header.as_deref().and_then(|name| sent.header(name)),
            headers: sent,
            json: None,
        };
        let digest = self
            .digest(&key, &values)
            .map_err(|_| "the signed string needs a header that sign does not produce")?;
        let signature = self.encoding.encode(digest.as_bytes());
        let value = self.layout.format(timestamp_pair, &signature);
        request.headers.push((self.header.clone(), value));
        Ok(())
    }
}
