//! Building the headers a provider would send: the `hookgate sign` development aid and benchmarks.

use sha2::{Digest, Sha256};

use super::identity::Location;
use super::provider::Scheme;
use super::twilio::TwilioScheme;
use super::{Provider, ProviderError};

impl Provider {
    /// The headers this provider would send for `body` posted to `url` at `now_unix`: the
    /// signature, timestamp, a generated event id and an example event type when those travel in
    /// headers, and Content-Type. For Twilio with a non-form body, pass a `url` that already
    /// carries `bodySHA256=<hex sha256 of body>`, as Twilio does.
    pub fn sign(
        &self,
        body: &[u8],
        secret: &str,
        url: &str,
        now_unix: i64,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let key = self.secret_key(secret)?;
        let content_type = match &self.scheme {
            Scheme::Hmac(_) => "application/json",
            Scheme::Twilio(_) => TwilioScheme::content_type(url),
        };
        let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
        if let Some(name) = self.identity.id.as_ref().and_then(Location::header) {
            headers.push((name.to_string(), generated_id(body, now_unix)));
        }
        let type_header = self.identity.kind.as_ref().and_then(Location::header);
        if let (Some(name), Some(example)) = (type_header, &self.type_example) {
            headers.push((name.to_string(), example.clone()));
        }
        match &self.scheme {
            Scheme::Hmac(hmac) => hmac.sign(&key, body, url, now_unix, &mut headers),
            Scheme::Twilio(twilio) => twilio.sign(&key, body, url, &mut headers),
        }
        .map_err(|reason| ProviderError::Sign {
            provider: self.name.clone(),
            reason,
        })?;
        Ok(headers)
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
