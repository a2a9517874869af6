//! Validly signed GitHub-style webhooks, each one a new event.
//!
//! The body is ~1 KB of JSON carrying `sent_at_us` (unix microseconds at send time), which the
//! sink reads back to measure send→delivered latency. Each request gets a unique
//! `X-GitHub-Delivery`, so hookgate stores every request as a new event.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hookgate::verify::{Provider, ProviderRegistry};

/// The provider the benchmark signs as: HMAC-SHA256 over the body, id in a header.
const PROVIDER: &str = "github";
/// The header that carries the event id for that provider.
const ID_HEADER: &str = "X-GitHub-Delivery";

/// Builds signed requests for one source.
pub struct Signer {
    provider: Arc<Provider>,
    secret: String,
    url: String,
    run_id: String,
    body_bytes: usize,
}

/// One request ready to send: its headers and body.
pub struct SignedRequest {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Signer {
    /// Loads the GitHub provider from `providers_dir`; requests target `url` (used for signing
    /// schemes that sign the URL and as the `Host`), with bodies of about `body_bytes`.
    pub fn new(
        providers_dir: &Path,
        secret: &str,
        url: &str,
        body_bytes: usize,
    ) -> anyhow::Result<Signer> {
        let registry = ProviderRegistry::load_dir(providers_dir)
            .with_context(|| format!("loading providers from {}", providers_dir.display()))?;
        let provider = registry
            .get(PROVIDER)
            .with_context(|| format!("no {PROVIDER}.toml in {}", providers_dir.display()))?;
        Ok(Signer {
            provider,
            secret: secret.to_string(),
            url: url.to_string(),
            run_id: uuid::Uuid::now_v7().simple().to_string(),
            body_bytes,
        })
    }

    /// Request number `seq` of this run, stamped and signed now.
    pub fn request(&self, seq: u64) -> anyhow::Result<SignedRequest> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
        let body = self.body(seq, now.as_micros() as u64);
        let signed = self
            .provider
            .sign(&body, &self.secret, &self.url, now.as_secs() as i64)?;
        let (mut headers, body) = (signed.headers, signed.body);
        let id = format!("{}-{seq}", self.run_id);
        match headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case(ID_HEADER))
        {
            Some((_, value)) => *value = id,
            None => headers.push((ID_HEADER.to_string(), id)),
        }
        Ok(SignedRequest { headers, body })
    }

    /// A JSON body padded to about `body_bytes`.
    fn body(&self, seq: u64, sent_at_us: u64) -> Vec<u8> {
        let head = format!(
            r#"{{"action":"opened","seq":{seq},"sent_at_us":{sent_at_us},"repository":{{"full_name":"acme/widgets"}},"padding":""#
        );
        let pad = self.body_bytes.saturating_sub(head.len() + 2);
        let mut body = Vec::with_capacity(head.len() + pad + 2);
        body.extend_from_slice(head.as_bytes());
        body.resize(head.len() + pad, b'x');
        body.extend_from_slice(b"\"}");
        body
    }
}

/// A GitHub `push` event of at least `body_bytes` (commits are added until it is that long):
/// what the transform phases and the transform engines read, a realistic shape rather than
/// filler so that a script walks real fields.
pub fn push_event(body_bytes: usize) -> Vec<u8> {
    let commit = |n: usize| {
        format!(
            r#"{{"id":"{n:040x}","message":"Fix widget rendering #{n}\n\nThe widget was drawn twice.","timestamp":"2026-12-05T10:00:00Z","author":{{"name":"Octo Cat","email":"octocat@example.com","username":"octocat"}},"added":[],"removed":[],"modified":["src/widget.rs","README.md"]}}"#
        )
    };
    let head = r#"{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","repository":{"id":1296269,"name":"widgets","full_name":"acme/widgets","private":false,"default_branch":"main","html_url":"https://github.com/acme/widgets"},"pusher":{"name":"octocat","email":"octocat@example.com"},"sender":{"login":"octocat","id":583231,"type":"User"},"commits":["#;
    let mut body = head.to_owned();
    let mut n = 1;
    loop {
        body.push_str(&commit(n));
        if body.len() + 2 >= body_bytes {
            break;
        }
        body.push(',');
        n += 1;
    }
    body.push_str("]}");
    body.into_bytes()
}

/// The `sent_at_us` stamp of a body built by [`Signer`], if present.
pub fn sent_at_us(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"sent_at_us\":";
    let start = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = body[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&body[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

/// Unix time now, in microseconds.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_of_the_requested_size_and_carry_their_stamp() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../providers");
        let signer = Signer::new(&dir, "s3cret", "http://127.0.0.1/webhooks/gh", 1024).unwrap();
        let request = signer.request(7).unwrap();
        assert_eq!(request.body.len(), 1024);
        let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(json["seq"], 7);
        assert_eq!(
            sent_at_us(&request.body),
            json["sent_at_us"].as_u64(),
            "the sink reads the same stamp"
        );
    }

    #[test]
    fn push_events_are_json_pushes_of_at_least_the_requested_size() {
        for size in [0, 1024, 4096] {
            let body = push_event(size);
            assert!(body.len() >= size, "{} < {size}", body.len());
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["repository"]["full_name"], "acme/widgets");
            assert!(!json["commits"].as_array().unwrap().is_empty());
        }
        assert!(
            push_event(1024).len() < 1024 + 400,
            "at most one commit too many"
        );
    }

    #[test]
    fn every_request_is_a_new_event() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../providers");
        let signer = Signer::new(&dir, "s3cret", "http://127.0.0.1/webhooks/gh", 1024).unwrap();
        let id = |seq| {
            signer
                .request(seq)
                .unwrap()
                .headers
                .into_iter()
                .find(|(name, _)| name == ID_HEADER)
                .unwrap()
                .1
        };
        assert_ne!(id(1), id(2));
    }
}
