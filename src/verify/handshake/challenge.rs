//! Handshakes that echo a challenge from a verified request: Slack's `url_verification` and
//! Twitch EventSub's `webhook_callback_verification`.

use serde_json::Value;

use super::{Answer, Handshake, json_with_marker};
use crate::verify::{Request, SecretKey};

/// Slack's Events API check: `{"type": "url_verification", "challenge": "…"}`, answered with the
/// challenge as plain text (one of the answers Slack documents).
#[derive(Debug)]
pub(super) struct SlackUrlVerification;

impl Handshake for SlackUrlVerification {
    fn verified(&self, req: &Request<'_>, _key: Option<&SecretKey>) -> Option<Answer> {
        let body = json_with_marker(req.body, b"url_verification")?;
        if body.get("type")? != "url_verification" {
            return None;
        }
        let challenge = body.get("challenge")?.as_str()?;
        Some(Answer::text("url_verification", challenge))
    }
}

/// Twitch's check when a subscription is created: the `Twitch-Eventsub-Message-Type` header says
/// `webhook_callback_verification`, and the body's `challenge` is echoed as plain text.
#[derive(Debug)]
pub(super) struct TwitchCallbackVerification;

const TWITCH_MESSAGE_TYPE: &str = "Twitch-Eventsub-Message-Type";

impl Handshake for TwitchCallbackVerification {
    fn verified(&self, req: &Request<'_>, _key: Option<&SecretKey>) -> Option<Answer> {
        if req.headers.header(TWITCH_MESSAGE_TYPE)? != b"webhook_callback_verification" {
            return None;
        }
        let body: Value = serde_json::from_slice(req.body).ok()?;
        let challenge = body.get("challenge")?.as_str()?;
        Some(Answer::text("webhook_callback_verification", challenge))
    }
}
