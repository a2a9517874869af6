//! What real senders put on the wire, computed directly with the hmac/sha1/sha2 crates and
//! independently of `hookgate::verify`, so a bug there cannot hide in both signer and verifier.
//! Each function returns the headers to send with the given body.

// Not every test uses every sender.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

type Headers = Vec<(String, String)>;

const JSON: &str = "application/json";

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex_hmac_sha256(secret: &str, parts: &[&[u8]]) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), parts))
}

fn headers(content_type: &str, pairs: &[(&str, String)]) -> Headers {
    std::iter::once(("Content-Type".to_string(), content_type.to_string()))
        .chain(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone())),
        )
        .collect()
}

/// Stripe: `Stripe-Signature: t=<t>,v1=<hex>` over `<t>.<body>`, keyed with the whole `whsec_` secret.
pub fn stripe(secret: &str, body: &[u8], t: i64) -> Headers {
    stripe_at(secret, body, &t.to_string())
}

/// [`stripe`] with `t` written as given, even when it is no number a clock could show.
pub fn stripe_at(secret: &str, body: &[u8], t: &str) -> Headers {
    let signature = hex_hmac_sha256(secret, &[t.as_bytes(), b".", body]);
    headers(
        JSON,
        &[("Stripe-Signature", format!("t={t},v1={signature}"))],
    )
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body, a `push` event.
pub fn github(secret: &str, body: &[u8], delivery_id: &str) -> Headers {
    let signature = hex_hmac_sha256(secret, &[body]);
    headers(
        JSON,
        &[
            ("X-Hub-Signature-256", format!("sha256={signature}")),
            ("X-GitHub-Delivery", delivery_id.to_string()),
            ("X-GitHub-Event", "push".to_string()),
        ],
    )
}

/// Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the body, an `orders/create` event.
pub fn shopify(secret: &str, body: &[u8], webhook_id: &str) -> Headers {
    let signature = STANDARD.encode(hmac_sha256(secret.as_bytes(), &[body]));
    headers(
        JSON,
        &[
            ("X-Shopify-Hmac-Sha256", signature),
            ("X-Shopify-Webhook-Id", webhook_id.to_string()),
            ("X-Shopify-Topic", "orders/create".to_string()),
        ],
    )
}

/// Slack: `X-Slack-Signature: v0=<hex>` over `v0:<t>:<body>`, with `X-Slack-Request-Timestamp`.
pub fn slack(secret: &str, body: &[u8], t: i64) -> Headers {
    let t = t.to_string();
    let signature = hex_hmac_sha256(secret, &[b"v0:", t.as_bytes(), b":", body]);
    headers(
        JSON,
        &[
            ("X-Slack-Signature", format!("v0={signature}")),
            ("X-Slack-Request-Timestamp", t),
        ],
    )
}

/// Standard Webhooks: `webhook-signature: v1,<base64>` over `<id>.<t>.<body>`, keyed with the
/// base64 after `whsec_`.
pub fn standard_webhooks(secret_whsec: &str, msg_id: &str, t: i64, body: &[u8]) -> Headers {
    let encoded = secret_whsec.strip_prefix("whsec_").unwrap_or(secret_whsec);
    let key = STANDARD.decode(encoded).expect("a whsec_ base64 secret");
    let t = t.to_string();
    let signature = STANDARD.encode(hmac_sha256(
        &key,
        &[msg_id.as_bytes(), b".", t.as_bytes(), b".", body],
    ));
    headers(
        JSON,
        &[
            ("webhook-id", msg_id.to_string()),
            ("webhook-timestamp", t),
            ("webhook-signature", format!("v1,{signature}")),
        ],
    )
}

/// Razorpay: `X-Razorpay-Signature: <hex>` over the body, with `X-Razorpay-Event-Id`.
pub fn razorpay(secret: &str, body: &[u8], event_id: &str) -> Headers {
    let signature = hex_hmac_sha256(secret, &[body]);
    headers(
        JSON,
        &[
            ("X-Razorpay-Signature", signature),
            ("X-Razorpay-Event-Id", event_id.to_string()),
        ],
    )
}

/// Paddle: `Paddle-Signature: ts=<t>;h1=<hex>` over `<t>:<body>`.
pub fn paddle(secret: &str, body: &[u8], t: i64) -> Headers {
    let signature = hex_hmac_sha256(secret, &[t.to_string().as_bytes(), b":", body]);
    headers(
        JSON,
        &[("Paddle-Signature", format!("ts={t};h1={signature}"))],
    )
}

/// Square: `x-square-hmacsha256-signature: <base64>` over the notification URL and the body.
pub fn square(key: &str, url: &str, body: &[u8]) -> Headers {
    let signature = STANDARD.encode(hmac_sha256(key.as_bytes(), &[url.as_bytes(), body]));
    headers(JSON, &[("x-square-hmacsha256-signature", signature)])
}

/// Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1>` over the URL followed by the form fields
/// sorted by name, each name immediately followed by its value.
pub fn twilio(token: &str, url: &str, form_body: &[u8]) -> Headers {
    let mut fields: Vec<(String, String)> = url::form_urlencoded::parse(form_body)
        .into_owned()
        .collect();
    fields.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (name, value) in &fields {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    headers(
        "application/x-www-form-urlencoded",
        &[("X-Twilio-Signature", signature)],
    )
}

/// Zoom: `x-zm-signature: v0=<hex>` over `v0:<t>:<body>`, with `x-zm-request-timestamp`.
pub fn zoom(secret: &str, body: &[u8], t: i64) -> Headers {
    let t = t.to_string();
    let signature = hex_hmac_sha256(secret, &[b"v0:", t.as_bytes(), b":", body]);
    headers(
        JSON,
        &[
            ("x-zm-signature", format!("v0={signature}")),
            ("x-zm-request-timestamp", t),
        ],
    )
}

/// Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` over message id, RFC 3339
/// timestamp and body, as a message of `message_type`.
pub fn twitch(secret: &str, body: &[u8], id: &str, timestamp: &str, message_type: &str) -> Headers {
    let signature = hex_hmac_sha256(secret, &[id.as_bytes(), timestamp.as_bytes(), body]);
    headers(
        JSON,
        &[
            (
                "Twitch-Eventsub-Message-Signature",
                format!("sha256={signature}"),
            ),
            ("Twitch-Eventsub-Message-Id", id.to_string()),
            ("Twitch-Eventsub-Message-Timestamp", timestamp.to_string()),
            ("Twitch-Eventsub-Message-Type", message_type.to_string()),
            (
                "Twitch-Eventsub-Subscription-Type",
                "channel.follow".to_string(),
            ),
        ],
    )
}

/// The hex HMAC-SHA256 of `message`: Zoom's `encryptedToken`.
pub fn hex_hmac(secret: &str, message: &[u8]) -> String {
    hex_hmac_sha256(secret, &[message])
}

/// The base64 HMAC-SHA256 of `message`: X's CRC `response_token` after `sha256=`.
pub fn base64_hmac(secret: &str, message: &[u8]) -> String {
    STANDARD.encode(hmac_sha256(secret.as_bytes(), &[message]))
}
