//! Correctly signed requests of seven providers (six HMAC layouts and Discord's Ed25519), each
//! with a fresh event id, signed by `independent_sign` or ring, never by hookgate; and which of
//! their fields are signed and how each is read.

use super::meaning::{BodySyntax, Syntax};
use crate::helpers::{now, secrets, unique_body};
use crate::independent_sign as sign;
use crate::raw_http::RawRequest;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};

/// The providers mutated, round robin; each is also the id of its source.
pub const PROVIDERS: [&str; 7] = [
    "stripe",
    "github",
    "shopify",
    "slack",
    "standard-webhooks",
    "twilio",
    "discord",
];

/// A request exactly as its provider would send it.
pub struct Original {
    pub request: RawRequest,
    /// Indexes in `request.headers` of the fields verification reads, with how each is read.
    pub signed: Vec<(usize, Syntax)>,
    pub body: BodySyntax,
    /// hookgate's answer to the request as it is: 202, or Discord's required 204.
    pub accepted: u16,
}

/// Signs like the providers do; holds the Discord application's key pair.
pub struct Senders {
    discord: Ed25519KeyPair,
    /// `127.0.0.1:<port>`, part of the URL Twilio signs.
    pub host: String,
}

impl Senders {
    pub fn new() -> Senders {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key pair");
        Senders {
            discord: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key pair"),
            host: String::new(),
        }
    }

    /// The `[[sources]]` entry of the Discord application, with its public key as the secret.
    pub fn discord_source(&self) -> String {
        let key = hex::encode(self.discord.public_key().as_ref());
        format!(
            "\n[[sources]]\nid = \"discord\"\nprovider = \"discord\"\nsecrets = [\"{key}\"]\ndestinations = [\"billing\"]\n"
        )
    }

    /// A fresh, correctly signed request of `provider`.
    pub fn original(&self, provider: &str) -> Original {
        use Syntax::*;
        let id = uuid::Uuid::now_v7().simple().to_string();
        let (body, t) = (unique_body().into_bytes(), now());
        let (headers, signed, body) = match provider {
            "stripe" => (
                sign::stripe(secrets::STRIPE, &body, t),
                vec![("Stripe-Signature", StripePairs)],
                body,
            ),
            "github" => (
                sign::github(secrets::GITHUB, &body, &id),
                vec![("X-Hub-Signature-256", Hex { prefix: "sha256=" })],
                body,
            ),
            "shopify" => (
                sign::shopify(secrets::SHOPIFY, &body, &id),
                vec![("X-Shopify-Hmac-Sha256", Base64)],
                body,
            ),
            "slack" => (
                sign::slack(secrets::SLACK, &body, t),
                vec![
                    ("X-Slack-Signature", Hex { prefix: "v0=" }),
                    ("X-Slack-Request-Timestamp", Plain),
                ],
                body,
            ),
            "standard-webhooks" => (
                sign::standard_webhooks(secrets::STANDARD, &format!("msg_{id}"), t, &body),
                vec![
                    ("webhook-signature", VersionedList),
                    ("webhook-timestamp", Plain),
                    ("webhook-id", Plain),
                ],
                body,
            ),
            "twilio" => {
                let form = format!(
                    "AccountSid=AC{id}&Body=Hello+there%21&From=%2B15005550006&MessageSid=SM{id}"
                );
                let url = format!("http://{}/webhooks/twilio", self.host);
                let mut headers = sign::twilio(secrets::TWILIO, &url, form.as_bytes());
                headers.push(("I-Twilio-Idempotency-Token".into(), id));
                (
                    headers,
                    vec![("X-Twilio-Signature", Base64)],
                    form.into_bytes(),
                )
            }
            "discord" => {
                let body =
                    format!(r#"{{"type":1,"id":"{id}","event":{{"type":"ENTITLEMENT_CREATE"}}}}"#);
                let signed = [t.to_string().as_bytes(), body.as_bytes()].concat();
                let signature = hex::encode(self.discord.sign(&signed));
                let headers = vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-Signature-Ed25519".into(), signature),
                    ("X-Signature-Timestamp".into(), t.to_string()),
                ];
                (
                    headers,
                    vec![
                        ("X-Signature-Ed25519", Hex { prefix: "" }),
                        ("X-Signature-Timestamp", Plain),
                    ],
                    body.into_bytes(),
                )
            }
            other => panic!("no sender for {other}"),
        };
        let request = RawRequest::post(format!("/webhooks/{provider}"))
            .headers(&headers)
            .body(body);
        let index = |name: &str| {
            request
                .headers
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
                .expect("the signed header is sent")
        };
        Original {
            signed: signed
                .into_iter()
                .map(|(name, syntax)| (index(name), syntax))
                .collect(),
            body: match provider {
                "twilio" => BodySyntax::SortedForm,
                _ => BodySyntax::Bytes,
            },
            accepted: if provider == "discord" { 204 } else { 202 },
            request,
        }
    }
}
