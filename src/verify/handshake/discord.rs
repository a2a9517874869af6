//! Discord's Webhook Events PING: a verified `{"type": 0, …}` is answered `204` and not stored
//! (events, `type` 1, are stored and answered `204` by the provider file's `[response]`).

use super::{Answer, Handshake};
use crate::verify::{Request, SecretKey};

#[derive(Debug)]
pub(super) struct DiscordPing;

impl Handshake for DiscordPing {
    fn verified(&self, req: &Request<'_>, _key: Option<&SecretKey>) -> Option<Answer> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(rename = "type")]
            kind: u64,
        }
        let envelope: Envelope = serde_json::from_slice(req.body).ok()?;
        (envelope.kind == 0).then(|| Answer::new("ping", 204))
    }
}
