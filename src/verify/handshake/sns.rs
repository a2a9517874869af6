//! AWS SNS subscription messages: a verified `SubscriptionConfirmation` is answered `200` and
//! either confirmed by fetching its `SubscribeURL` (source key `auto_confirm = true`, and only
//! when that URL is on SNS's hosts or the source's `allowed_cert_urls`) or left for the operator
//! to confirm; an `UnsubscribeConfirmation` is answered and recorded. Neither is stored as an
//! event.

use serde::Deserialize;

use super::{Answer, Handshake, json_with_marker};
use crate::verify::cert_url;
use crate::verify::{Request, SecretKey};

#[derive(Debug)]
pub(super) struct SnsSubscription;

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "SubscribeURL")]
    subscribe_url: Option<String>,
}

const CONFIRMATION: &str = "SubscriptionConfirmation";
const UNSUBSCRIBED: &str = "UnsubscribeConfirmation";

impl Handshake for SnsSubscription {
    fn verified(&self, req: &Request<'_>, _key: Option<&SecretKey>) -> Option<Answer> {
        let body = json_with_marker(req.body, b"Confirmation")?;
        let message = Message::deserialize(&body).ok()?;
        match message.kind.as_str() {
            UNSUBSCRIBED => Some(Answer::new(UNSUBSCRIBED, 200)),
            CONFIRMATION => Some(confirmation(req, message.subscribe_url.as_deref())),
            _ => None,
        }
    }

    fn option_keys(&self) -> &'static [&'static str] {
        &["auto_confirm"]
    }
}

fn confirmation(req: &Request<'_>, subscribe_url: Option<&str>) -> Answer {
    let mut answer = Answer::new(CONFIRMATION, 200);
    let raw = subscribe_url.unwrap_or_default();
    let allowed = cert_url::allowed_subscribe_url(raw, &req.options.allowed_cert_urls);
    answer.record.action = match (req.options.auto_confirm, allowed) {
        (true, Some(url)) => {
            answer.confirm_url = Some(url.to_string());
            None
        }
        (true, None) => Some(format!(
            "confirm the subscription yourself: its SubscribeURL is not on an SNS host (or \
             allowed_cert_urls), so it was not fetched: {raw}"
        )),
        (false, _) => Some(format!(
            "confirm the subscription by opening its SubscribeURL (or set auto_confirm = true): \
             {raw}"
        )),
    };
    answer
}
