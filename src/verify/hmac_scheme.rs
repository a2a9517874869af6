//! The generic HMAC scheme: a signed-string template, a hash, a signature encoding, a header
//! layout and an optional signed timestamp, all taken from the provider file.

use super::error::Invalid;
use super::identity::Location;
use super::key::{SecretFormat, SecretKey};
use super::mac::{Algorithm, DecodedSignature, Digest, Encoding};
use super::schema::ProviderFile;
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::signature_header::{Layout, header_value};
use super::template::{Template, Values};
use super::timestamp::{TimestampRule, TimestampSource};
use super::{HeaderSource, Rejection, Request};

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
        let header = file.signature.header("hmac")?;
        let algorithm = file.algorithm.ok_or_else(|| required("algorithm"))?;
        let encoding = file
            .signature
            .encoding
            .ok_or_else(|| required("signature.encoding"))?;
        file.signature.reject_unused("hmac", &[])?;
        let layout = Layout::compile(&file.signature)?;
        let timestamp = file
            .timestamp
            .as_ref()
            .map(|spec| TimestampRule::compile(spec, &layout))
            .transpose()?;
        if layout.is_list() && timestamp.is_none() {
            return Err(Invalid::new(
                "timestamp",
                "required with signature.format = \"list\": its first item is the timestamp",
            ));
        }
        let (template, id_header) = Template::for_file(
            file.signed.as_deref(),
            "hmac",
            timestamp.is_some(),
            event_id,
        )?;
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
        self.template.read_headers(
            &self.header,
            self.timestamp.as_ref(),
            self.id_header.as_deref(),
        )
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
            Some(rule) => Some(rule.checked(req, &self.layout, value, tolerance_secs)?),
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
        let timestamp = format.unwrap_or_default().format(now_unix)?;
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
