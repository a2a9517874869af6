//! The `token` scheme: the request carries a shared token as it is (GitLab, Telegram, a generic
//! `X-Webhook-Token`), in a header, a query parameter, or in every item of a JSON batch
//! (Microsoft Graph's `clientState`). It proves only that the sender knows the token: the body
//! is not signed, so a token must only ever travel over HTTPS.

use std::borrow::Cow;

use serde_json::Value;
use url::form_urlencoded;

use super::body_pointer::BodyPointer;
use super::error::Invalid;
use super::key::SecretKey;
use super::schema::ProviderFile;
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::signature_header::header_value;
use super::{Rejection, Request, SourceOptions, shared_secret};

const AUTHORIZATION: &str = "Authorization";
const BEARER: &[u8] = b"bearer ";
const OPTION_KEYS: &[&str] = &["token_header", "token_query"];

/// Where the token is in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place<'a> {
    /// A header; `Authorization` may also say `Bearer <token>`.
    Header(Cow<'a, str>),
    /// A query parameter of the URL posted to.
    Query(&'a str),
    /// Every value the pointer reaches in the JSON body.
    Body(&'a BodyPointer),
}

/// Where the file puts the token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FilePlace {
    Header(String),
    Body(BodyPointer),
}

/// A compiled `scheme = "token"` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TokenScheme {
    place: FilePlace,
    /// Whether a source may move the token with `token_header` / `token_query`.
    configurable: bool,
}

impl TokenScheme {
    /// Takes `[signature] header` or `pointer` (exactly one), and `configurable` with a header.
    pub(super) fn compile(file: &ProviderFile) -> Result<TokenScheme, Invalid> {
        let allowed = [
            "secret",
            "signature.header",
            "signature.pointer",
            "signature.configurable",
        ];
        file.only_keys("token", &allowed)?;
        let signature = &file.signature;
        shared_secret::reject_encoded(file, "token")?;
        let place = match (&signature.header, &signature.pointer) {
            (Some(_), None) => FilePlace::Header(signature.header("token")?),
            (None, Some(pointer)) => FilePlace::Body(
                BodyPointer::compile(pointer)
                    .map_err(|reason| Invalid::new("signature.pointer", reason))?,
            ),
            _ => {
                return Err(Invalid::new(
                    "signature",
                    "set exactly one of `header` or `pointer` with scheme = \"token\"",
                ));
            }
        };
        Invalid::reject_if(
            signature.configurable && matches!(place, FilePlace::Body(_)),
            "signature.configurable",
            "with signature.pointer",
        )?;
        Ok(TokenScheme {
            place,
            configurable: signature.configurable,
        })
    }

    /// Where this source's requests carry the token.
    fn place<'a>(&'a self, options: &'a SourceOptions) -> Place<'a> {
        match (&self.place, self.configurable) {
            (FilePlace::Header(_), true) if options.token_query.is_some() => {
                Place::Query(options.token_query.as_deref().unwrap_or_default())
            }
            (FilePlace::Header(_), true) if options.token_header.is_some() => Place::Header(
                Cow::Borrowed(options.token_header.as_deref().unwrap_or_default()),
            ),
            (FilePlace::Header(name), _) => Place::Header(Cow::Borrowed(name)),
            (FilePlace::Body(pointer), _) => Place::Body(pointer),
        }
    }
}

/// The token of an `Authorization` value: after `Bearer ` when it is there.
fn without_bearer(value: &[u8]) -> &[u8] {
    match value.get(..BEARER.len()) {
        Some(scheme) if scheme.eq_ignore_ascii_case(BEARER) => value[BEARER.len()..].trim_ascii(),
        _ => value,
    }
}

/// The value of query parameter `name` of `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

impl Scheme for TokenScheme {
    /// The file's header; a token in the body, or moved by a source's `token_header` /
    /// `token_query`, is not listed.
    fn headers(&self) -> Vec<&str> {
        match &self.place {
            FilePlace::Header(name) => vec![name],
            FilePlace::Body(_) => Vec::new(),
        }
    }

    fn name(&self) -> &'static str {
        "token"
    }

    fn decode_key(&self, secret: &str) -> Result<SecretKey, String> {
        if secret.is_empty() {
            return Err("secret is empty".to_string());
        }
        Ok(shared_secret::key(secret.as_bytes()))
    }

    fn option_keys(&self) -> &'static [&'static str] {
        if self.configurable { OPTION_KEYS } else { &[] }
    }

    fn check_options(&self, options: &SourceOptions) -> Result<(), (&'static str, String)> {
        match (&options.token_header, &options.token_query) {
            (Some(_), Some(_)) => Err((
                "token_query",
                "set token_header or token_query, not both".to_string(),
            )),
            (Some(header), None) if header.trim().is_empty() => {
                Err(("token_header", "is empty".to_string()))
            }
            (None, Some(query)) if query.is_empty() => Err(("token_query", "is empty".to_string())),
            _ => Ok(()),
        }
    }

    /// A missing or blank token is `signature_missing`; a body that is not JSON, or a token in
    /// it that is not a string, `signature_malformed`; any token matching no key,
    /// `token_mismatch`.
    fn verify(
        &self,
        req: &Request<'_>,
        keys: &[SecretKey],
        _tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let matching = |token: &[u8]| {
            if token.is_empty() {
                return Err(Rejection::MissingSignature);
            }
            shared_secret::matching(keys, token).ok_or(Rejection::TokenMismatch)
        };
        match self.place(req.options) {
            Place::Header(name) => {
                let value = header_value(req.headers, &name)?;
                if name.eq_ignore_ascii_case(AUTHORIZATION) {
                    matching(without_bearer(value))
                } else {
                    matching(value)
                }
            }
            Place::Query(name) => matching(
                query_param(req.url, name)
                    .ok_or(Rejection::MissingSignature)?
                    .as_bytes(),
            ),
            Place::Body(pointer) => {
                let body: Value =
                    serde_json::from_slice(req.body).map_err(|_| Rejection::MalformedSignature)?;
                let tokens = pointer.values(&body).ok_or(Rejection::MissingSignature)?;
                let mut first = None;
                for token in tokens {
                    let token = token.as_str().ok_or(Rejection::MalformedSignature)?;
                    let index = matching(token.as_bytes())?;
                    first.get_or_insert(index);
                }
                first.ok_or(Rejection::MissingSignature)
            }
        }
    }

    /// Adds the token where the file puts it (`Bearer <token>` in `Authorization`); for a body
    /// pointer, into every item of the body's batch.
    fn sign(
        &self,
        secret: &str,
        _now_unix: i64,
        request: &mut SignedRequest,
    ) -> Result<(), String> {
        match &self.place {
            FilePlace::Header(name) if name.eq_ignore_ascii_case(AUTHORIZATION) => request
                .headers
                .push((name.clone(), format!("Bearer {secret}"))),
            FilePlace::Header(name) => request.headers.push((name.clone(), secret.to_string())),
            FilePlace::Body(pointer) => {
                let mut body: Value = serde_json::from_slice(&request.body)
                    .map_err(|_| "the body must be JSON to carry the token")?;
                if pointer.set_all(&mut body, &Value::from(secret)) == 0 {
                    return Err("the body has no item where the token goes".to_string());
                }
                request.body = body.to_string().into_bytes();
            }
        }
        Ok(())
    }
}
