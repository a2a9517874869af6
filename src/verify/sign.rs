//! Building the request a provider would send: the `hookgate sign` development aid and benchmarks.

use sha2::{Digest, Sha256};

use super::identity::Location;
use super::{HeaderSource, Provider, ProviderError};

/// A webhook as its provider would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// Where it is posted; a scheme may add to the query (a token, say).
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The body; schemes that sign inside the body put their signature here.
    pub body: Vec<u8>,
}

impl SignedRequest {
    /// The value of header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .header(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }
}

impl Provider {
    /// The request this provider would send for `body` posted to `url` at `now_unix`: the
    /// signature, timestamp, a generated event id and an example event type when those travel in
    /// headers, and Content-Type. `secret` is what [`Provider::signing_input`] says. For Twilio
    /// with a non-form body, pass a `url` that already carries `bodySHA256=<hex sha256 of body>`,
    /// as Twilio does.
    pub fn sign(
        &self,
        body: &[u8],
        secret: &str,
        url: &str,
        now_unix: i64,
    ) -> Result<SignedRequest, ProviderError> {
        let content_type = self.scheme.content_type(url);
        let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
        if let Some(name) = self.identity.id.as_ref().and_then(Location::header) {
            headers.push((name.to_string(), generated_id(body, now_unix)));
        }
        let type_header = self.identity.kind.as_ref().and_then(Location::header);
        if let (Some(name), Some(example)) = (type_header, &self.type_example) {
            headers.push((name.to_string(), example.clone()));
        }
        let mut request = SignedRequest {
            url: url.to_string(),
            headers,
            body: body.to_vec(),
        };
        self.scheme
            .sign(secret, now_unix, &mut request)
            .map_err(|reason| ProviderError::Sign {
                provider: self.name.clone(),
                reason,
            })?;
        Ok(request)
    }
}

/// A message id that is stable for one body and instant: `msg_` and 24 hex digits.
fn generated_id(body: &[u8], now_unix: i64) -> String {
    let hash = Sha256::new()
        .chain_update(now_unix.to_be_bytes())
        .chain_update(body)
        .finalize();
    format!("msg_{}", hex::encode(&hash[..12]))
}
