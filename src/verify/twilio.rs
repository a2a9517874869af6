//! Twilio's built-in scheme: base64 HMAC-SHA1 of the full URL followed by the form fields sorted
//! by name, each name immediately followed by its value. For a non-form body Twilio instead puts
//! `bodySHA256=<hex sha256 of body>` in the URL query and signs the URL alone.

use std::borrow::Cow;

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use url::form_urlencoded;

use super::error::Invalid;
use super::form::form_fields;
use super::key::{SecretFormat, SecretKey};
use super::mac::{Algorithm, DecodedSignature, Digest, Encoding};
use super::schema::ProviderFile;
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::signature_header::header_value;
use super::{Rejection, Request};

const BODY_HASH_PARAM: &str = "bodySHA256";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

type FormFields<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// The compiled Twilio scheme: only the header name is configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TwilioScheme {
    secret: SecretFormat,
    header: String,
}

impl TwilioScheme {
    /// Accepts only `signature.header`: everything else is fixed by Twilio.
    pub(super) fn compile(file: &ProviderFile) -> Result<TwilioScheme, Invalid> {
        file.only_keys("twilio", &["secret", "signature.header"])?;
        Ok(TwilioScheme {
            secret: SecretFormat::new(&file.secret),
            header: file.signature.header("twilio")?,
        })
    }
}

impl Scheme for TwilioScheme {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn headers(&self) -> Vec<&str> {
        vec![self.header.as_str()]
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        Ok(SecretKey::mac(Algorithm::Sha1, &self.secret.bytes(secret)?))
    }

    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        _tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let value = header_value(req.headers, &self.header)?;
        let signature = DecodedSignature::decode(Encoding::Base64, value)
            .ok_or(Rejection::MalformedSignature)?;
        let fields = match body_hash_param(req.url) {
            Some(expected) if body_hash_matches(req.body, &expected) => Vec::new(),
            Some(_) => return Err(Rejection::SignatureMismatch),
            None => sorted_form_fields(req.body),
        };
        keys.iter()
            .position(|key| {
                digest(key, req.url, &fields).is_ok_and(|digest| signature.matches(&digest))
            })
            .ok_or(Rejection::SignatureMismatch)
    }

    /// JSON when the URL carries `bodySHA256`, else a form.
    fn content_type(&self, url: &str) -> &'static str {
        if body_hash_param(url).is_some() {
            JSON
        } else {
            FORM
        }
    }

    /// A form body is signed with its fields; for any other body the URL must already carry
    /// `bodySHA256=<hex sha256 of body>`.
    fn sign(
        &self,
        secret: &str,
        _now_unix: i64,
        request: &mut SignedRequest,
    ) -> Result<(), String> {
        let key = self.decode_key(secret)?;
        let (url, body) = (&request.url, &request.body);
        let fields = match body_hash_param(url) {
            Some(expected) if body_hash_matches(body, &expected) => Vec::new(),
            Some(_) => {
                return Err(format!(
                    "{BODY_HASH_PARAM} in the URL does not match the body"
                ));
            }
            None => sorted_form_fields(body),
        };
        let signature = Encoding::Base64.encode(digest(&key, url, &fields)?.as_bytes());
        request.headers.push((self.header.clone(), signature));
        Ok(())
    }
}

fn digest(key: &SecretKey, url: &str, fields: &FormFields<'_>) -> Result<Digest, String> {
    let mut mac = key.keyed_mac().ok_or("not an HMAC key")?;
    mac.update(url.as_bytes());
    for (name, value) in fields {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    Ok(mac.finalize())
}

/// The form fields of `body`, sorted by name (then value, for repeated names).
fn sorted_form_fields(body: &[u8]) -> FormFields<'_> {
    let mut fields: FormFields<'_> = form_fields(body).collect();
    fields.sort();
    fields
}

/// The `bodySHA256` query parameter of `url`, if present.
fn body_hash_param(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == BODY_HASH_PARAM)
        .map(|(_, value)| value.into_owned())
}

fn body_hash_matches(body: &[u8], expected_hex: &str) -> bool {
    let mut expected = [0u8; 32];
    hex::decode_to_slice(expected_hex, &mut expected).is_ok()
        && bool::from(expected.ct_eq(Sha256::digest(body).as_slice()))
}
