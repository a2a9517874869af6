//! Handshakes: requests a provider sends to check an endpoint before (or instead of) delivering
//! events — a challenge to echo, a token to hash, a subscription to confirm. hookgate answers
//! them itself, after verification wherever the provider signs them, and never stores or
//! delivers them. Each provider's handshake is one module implementing [`Handshake`], selected by
//! the provider file's `handshake = "…"`.

mod challenge;
mod crc;
mod discord;
mod notion;
mod sns;
mod subscribe;

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{Rejection, Request, SecretKey, SourceOptions};

/// The provider file's `handshake = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum HandshakeName {
    /// Slack's `url_verification`: echo `challenge`.
    Slack,
    /// Zoom's `endpoint.url_validation`: HMAC the `plainToken`.
    Zoom,
    /// Twitch EventSub's `webhook_callback_verification`: echo `challenge` as text.
    Twitch,
    /// Discord's PING (`type` 0): `204`.
    Discord,
    /// Notion's unsigned first request carrying the `verification_token`.
    Notion,
    /// Meta's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
    Meta,
    /// Dropbox's `GET ?challenge=`.
    Dropbox,
    /// Microsoft Graph's `POST ?validationToken=`.
    MsGraph,
    /// X's CRC: `GET ?crc_token=` answered with an HMAC of it.
    X,
    /// AWS SNS `SubscriptionConfirmation` (confirmed with `auto_confirm`) and
    /// `UnsubscribeConfirmation`.
    AwsSns,
}

impl HandshakeName {
    /// The name as provider files write it.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            HandshakeName::Slack => "slack",
            HandshakeName::Zoom => "zoom",
            HandshakeName::Twitch => "twitch",
            HandshakeName::Discord => "discord",
            HandshakeName::Notion => "notion",
            HandshakeName::Meta => "meta",
            HandshakeName::Dropbox => "dropbox",
            HandshakeName::MsGraph => "ms-graph",
            HandshakeName::X => "x",
            HandshakeName::AwsSns => "aws-sns",
        }
    }
}

/// What an operator sees of one handshake in `GET /admin/handshakes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeRecord {
    /// What kind of check it was, e.g. `url_verification`.
    pub kind: &'static str,
    /// `answered`, or `refused` when its signature or token did not match.
    pub outcome: &'static str,
    /// What the operator must do, when anything: e.g. configure Notion's verification token.
    pub action: Option<String>,
}

/// hookgate's own answer to a handshake, and what to record of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `None` with an empty body.
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// Extra response headers, e.g. `X-Content-Type-Options: nosniff` on an echoed challenge.
    pub headers: Vec<(&'static str, &'static str)>,
    pub record: HandshakeRecord,
    /// A URL to GET to complete the handshake (an allowed SNS `SubscribeURL` with
    /// `auto_confirm`); ingest fetches it before answering and records the outcome.
    pub confirm_url: Option<String>,
}

impl Answer {
    fn new(kind: &'static str, status: u16) -> Answer {
        Answer {
            status,
            content_type: None,
            body: Vec::new(),
            headers: Vec::new(),
            confirm_url: None,
            record: HandshakeRecord {
                kind,
                outcome: "answered",
                action: None,
            },
        }
    }

    fn text(kind: &'static str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            content_type: Some("text/plain; charset=utf-8"),
            body: body.into(),
            ..Answer::new(kind, 200)
        }
    }

    fn json(kind: &'static str, body: &Value) -> Answer {
        Answer {
            content_type: Some("application/json"),
            body: body.to_string().into_bytes(),
            ..Answer::new(kind, 200)
        }
    }
}

/// A refused GET handshake: the rejection to answer with, and the kind to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub kind: &'static str,
    pub rejection: Rejection,
}

/// One provider's handshake. Each method answers `None` when the request is not its handshake.
pub(super) trait Handshake: fmt::Debug + Send + Sync {
    /// Answers a GET on the webhook path, given its raw query string; `None` for providers
    /// that send no GET requests (the GET is then `405`).
    fn get(
        &self,
        _query: &str,
        _options: &SourceOptions,
        _keys: &[SecretKey],
    ) -> Option<Result<Answer, Refused>> {
        None
    }

    /// Answers a request the provider does not sign, before verification.
    fn unsigned(&self, _req: &Request<'_>) -> Option<Answer> {
        None
    }

    /// Answers a verified request that is a handshake; `key` is the key it verified with (none
    /// for schemes without configured keys, such as AWS SNS).
    fn verified(&self, _req: &Request<'_>, _key: Option<&SecretKey>) -> Option<Answer> {
        None
    }

    /// The source keys this handshake reads, e.g. `verify_token`.
    fn option_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether a source may have no secret yet (Notion: its first request brings it).
    fn allows_no_secret(&self) -> bool {
        false
    }
}

/// Compiles the file's `handshake`.
pub(super) fn compile(name: HandshakeName) -> Arc<dyn Handshake> {
    match name {
        HandshakeName::Slack => Arc::new(challenge::SlackUrlVerification),
        HandshakeName::Twitch => Arc::new(challenge::TwitchCallbackVerification),
        HandshakeName::Zoom => Arc::new(crc::ZoomUrlValidation),
        HandshakeName::X => Arc::new(crc::XCrc),
        HandshakeName::Discord => Arc::new(discord::DiscordPing),
        HandshakeName::Notion => Arc::new(notion::NotionVerification),
        HandshakeName::Meta => Arc::new(subscribe::MetaSubscribe),
        HandshakeName::Dropbox => Arc::new(subscribe::DropboxChallenge),
        HandshakeName::MsGraph => Arc::new(subscribe::GraphValidation),
        HandshakeName::AwsSns => Arc::new(sns::SnsSubscription),
    }
}

/// The body as a JSON object, parsed only when `marker` occurs in it, so that ordinary events
/// (which never contain it) cost one substring scan.
fn json_with_marker(body: &[u8], marker: &[u8]) -> Option<Value> {
    memchr::memmem::find(body, marker)?;
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
}

/// The value of query parameter `name`, percent-decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The query string of a full URL.
fn url_query(url: &str) -> &str {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    query.split('#').next().unwrap_or_default()
}

#[cfg(test)]
mod tests;
