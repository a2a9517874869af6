//! What the public-key schemes (`ed25519`, `ecdsa-p256`) share with each other and with `hmac`:
//! the signed string is a template, the signature sits in a header (hex or base64, laid out as
//! an HMAC signature may be), and a signed timestamp is checked against its tolerance before any
//! key is tried. Only the algorithm that checks or makes a signature differs.

use super::error::Invalid;
use super::identity::Location;
use super::mac::{DecodedSignature, Encoding};
use super::schema::ProviderFile;
use super::sign::SignedRequest;
use super::signature_header::{Layout, header_value};
use super::template::{Template, Values};
use super::timestamp::{TimestampRule, TimestampSource};
use super::{HeaderSource, Rejection, Request, SecretKey};

use ring::signature::{UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::pem::parse_x509_pem;

/// A file's signed string, signature header and timestamp, checked once at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SignedMessage {
    header: String,
    layout: Layout,
    encoding: Encoding,
    template: Template,
    timestamp: Option<TimestampRule>,
    /// The header `{id}` stands for.
    id_header: Option<String>,
}

/// One request's signed bytes and the signatures its header carries.
pub(super) struct Signed {
    pub message: Vec<u8>,
    pub signatures: Vec<DecodedSignature>,
}

impl SignedMessage {
    /// The headers verification reads.
    pub(super) fn headers(&self) -> Vec<&str> {
        self.template.read_headers(
            &self.header,
            self.timestamp.as_ref(),
            self.id_header.as_deref(),
        )
    }

    /// Checks the keys `scheme` shares with `hmac`; `allowed` are the scheme's own
    /// `[signature]` keys (see [`super::schema::SignatureSpec::reject_unused`]).
    pub(super) fn compile(
        file: &ProviderFile,
        event_id: Option<&Location>,
        scheme: &'static str,
        allowed: &[&str],
    ) -> Result<SignedMessage, Invalid> {
        Invalid::reject_if(
            file.algorithm.is_some(),
            "algorithm",
            &format!("by scheme = \"{scheme}\" (its hash is fixed)"),
        )?;
        let signature = &file.signature;
        signature.reject_unused(scheme, allowed)?;
        let header = signature.header(scheme)?;
        let encoding = signature.encoding.ok_or_else(|| {
            Invalid::new(
                "signature.encoding",
                format!("required with scheme = \"{scheme}\""),
            )
        })?;
        let layout = Layout::compile(signature)?;
        let timestamp = file
            .timestamp
            .as_ref()
            .map(|spec| TimestampRule::compile(spec, &layout))
            .transpose()?;
        let (template, id_header) = Template::for_file(
            file.signed.as_deref(),
            scheme,
            timestamp.is_some(),
            event_id,
        )?;
        Ok(SignedMessage {
            header,
            layout,
            encoding,
            template,
            timestamp,
            id_header,
        })
    }

    /// The file's tolerance; `None` without a `[timestamp]`.
    pub(super) fn tolerance_secs(&self) -> Option<u64> {
        self.timestamp.as_ref().map(|rule| rule.tolerance_secs)
    }

    /// Reads `req`: the header must hold at least one signature that decodes to a length the
    /// algorithm produces (`plausible`), else it is malformed; then the timestamp; then the
    /// signed string is rendered (the verifiers want it in one piece).
    pub(super) fn read(
        &self,
        req: &Request<'_>,
        tolerance_secs: Option<u64>,
        plausible: fn(&[u8]) -> bool,
    ) -> Result<Signed, Rejection> {
        let value = header_value(req.headers, &self.header)?;
        let signatures: Vec<DecodedSignature> = self
            .layout
            .signatures(value)
            .filter_map(|text| DecodedSignature::decode(self.encoding, text))
            .filter(|signature| plausible(signature.as_bytes()))
            .collect();
        if signatures.is_empty() {
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
            id: self.id(req.headers),
            headers: req.headers,
            json: None,
        };
        Ok(Signed {
            message: self.render(&values, req.body.len())?,
            signatures,
        })
    }

    /// Adds the timestamp (as of `now_unix`) and the signature `sign` makes of the signed string
    /// to `request`, as the provider does.
    pub(super) fn sign(
        &self,
        now_unix: i64,
        request: &mut SignedRequest,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<(), String> {
        let rule = self.timestamp.as_ref();
        let timestamp = rule.map(|rule| rule.format.format(now_unix)).transpose()?;
        let mut pair = None;
        match (rule.map(|rule| &rule.source), &timestamp) {
            (Some(TimestampSource::Header(name)), Some(value)) => {
                request.headers.push((name.clone(), value.clone()))
            }
            (Some(TimestampSource::Pair(key)), Some(value)) => {
                pair = Some((key.as_str(), value.as_str()))
            }
            _ => {}
        }
        let headers: &Vec<(String, String)> = &request.headers;
        let values = Values {
            body: &request.body,
            url: &request.url,
            timestamp: timestamp.as_deref().map(str::as_bytes),
            id: self.id(headers),
            headers,
            json: None,
        };
        let message = self
            .render(&values, request.body.len())
            .map_err(|_| "the signed string needs a header that sign does not produce")?;
        let signature = self.encoding.encode(&sign(&message)?);
        let value = self.layout.format(pair, &signature);
        request.headers.push((self.header.clone(), value));
        Ok(())
    }

    fn id<'r>(&self, headers: &'r dyn HeaderSource) -> Option<&'r [u8]> {
        headers.header(self.id_header.as_deref()?)
    }

    fn render(&self, values: &Values<'_>, body_len: usize) -> Result<Vec<u8>, Rejection> {
        let mut message = Vec::with_capacity(body_len + 64);
        self.template
            .render(values, |bytes| message.extend_from_slice(bytes))?;
        Ok(message)
    }
}

impl Signed {
    /// The index of the first public key under which any of the signatures verifies.
    pub(super) fn matching_key(
        &self,
        keys: &[SecretKey],
        algorithm: &'static dyn VerificationAlgorithm,
    ) -> Result<usize, Rejection> {
        keys.iter()
            .position(|key| {
                key.public_key_bytes().is_some_and(|public_key| {
                    let verifier = UnparsedPublicKey::new(algorithm, public_key);
                    self.signatures.iter().any(|signature| {
                        verifier.verify(&self.message, signature.as_bytes()).is_ok()
                    })
                })
            })
            .ok_or(Rejection::SignatureMismatch)
    }
}

/// The DER bytes of a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), what `hookgate
/// sign --private-key` reads; the error never contains the key.
pub(super) fn pkcs8_der(pem: &str) -> Result<Vec<u8>, String> {
    const EXPECTED: &str = "expected a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)";
    let (_, pem) = parse_x509_pem(pem.trim_start().as_bytes()).map_err(|_| EXPECTED.to_string())?;
    if pem.label != "PRIVATE KEY" {
        return Err(format!("{EXPECTED}, found a {} block", pem.label));
    }
    Ok(pem.contents)
}
