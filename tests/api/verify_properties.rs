//! Properties of verification through hookgate's public API, over requests signed by the
//! second implementation in `independent_sign.rs` (never by hookgate's own signer): any body
//! with any secret verifies when signed as the provider signs it, and changing any one byte of
//! the signature header or of the body makes it refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hookgate::verify::{Provider, ProviderRegistry, Rejection, Request, SourceOptions};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::independent_sign as sign;

const NOW: i64 = 1_700_000_000;
/// `NOW` as Twitch writes it.
const NOW_RFC3339: &str = "2023-11-14T22:13:20Z";
const URL: &str = "https://hooks.example.com/webhooks/src_1";

/// The providers `independent_sign.rs` signs for, with the header that carries the signature.
const SENDERS: [(&str, &str); 11] = [
    ("stripe", "Stripe-Signature"),
    ("github", "X-Hub-Signature-256"),
    ("shopify", "X-Shopify-Hmac-Sha256"),
    ("slack", "X-Slack-Signature"),
    ("standard-webhooks", "webhook-signature"),
    ("razorpay", "X-Razorpay-Signature"),
    ("paddle", "Paddle-Signature"),
    ("square", "x-square-hmacsha256-signature"),
    ("zoom", "x-zm-signature"),
    ("twitch", "Twitch-Eventsub-Message-Signature"),
    ("twilio", "X-Twilio-Signature"),
];

/// One request as its provider sends it, with the secret the source is configured with.
#[derive(Debug)]
struct Signed {
    provider: &'static str,
    secret: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Signed {
    fn new(provider: &'static str, secret: &str, body: Vec<u8>) -> Signed {
        // Standard Webhooks' secrets are `whsec_` and base64; the others are used as they are.
        let configured = match provider {
            "standard-webhooks" => format!("whsec_{}", STANDARD.encode(secret)),
            _ => secret.to_string(),
        };
        let headers = match provider {
            "stripe" => sign::stripe(secret, &body, NOW),
            "github" => sign::github(secret, &body, "delivery-1"),
            "shopify" => sign::shopify(secret, &body, "webhook-1"),
            "slack" => sign::slack(secret, &body, NOW),
            "standard-webhooks" => sign::standard_webhooks(&configured, "msg_1", NOW, &body),
            "razorpay" => sign::razorpay(secret, &body, "event-1"),
            "paddle" => sign::paddle(secret, &body, NOW),
            "square" => sign::square(secret, URL, &body),
            "zoom" => sign::zoom(secret, &body, NOW),
            "twitch" => sign::twitch(secret, &body, "message-1", NOW_RFC3339, "notification"),
            "twilio" => sign::twilio(secret, URL, &body),
            other => unreachable!("no independent signer for {other}"),
        };
        Signed {
            provider,
            secret: configured,
            headers: headers
                .into_iter()
                .map(|(name, value)| (name, value.into_bytes()))
                .collect(),
            body,
        }
    }

    fn verify(&self) -> Result<usize, Rejection> {
        let provider: std::sync::Arc<Provider> = registry().get(self.provider).expect("shipped");
        let key = provider
            .secret_key(&self.secret)
            .expect("the secret decodes");
        let request = Request {
            headers: &self.headers,
            body: &self.body,
            url: URL,
            now_unix: NOW,
            options: SourceOptions::NONE,
            certificate: None,
        };
        provider.verify(&request, &[key], None)
    }

    fn header_mut(&mut self, name: &str) -> &mut Vec<u8> {
        let (_, value) = self
            .headers
            .iter_mut()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .expect("the signer sets the header");
        value
    }
}

fn registry() -> &'static ProviderRegistry {
    static REGISTRY: std::sync::OnceLock<ProviderRegistry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| ProviderRegistry::built_in().expect("shipped providers load"))
}

/// A body for `provider`: any bytes, except for Twilio, which posts a form.
fn body_for(provider: &str, bytes: Vec<u8>, fields: Vec<(String, String)>) -> Vec<u8> {
    if provider != "twilio" {
        return bytes;
    }
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(fields);
    form.finish().into_bytes()
}

fn sender() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(SENDERS.to_vec())
}

/// A signed request of a random sender: any secret, any body (a form for Twilio).
fn signed() -> impl Strategy<Value = (Signed, &'static str)> {
    (
        sender(),
        "[ -~]{1,40}",
        vec(any::<u8>(), 0..300),
        vec(("[A-Za-z]{1,8}", "[ -~]{0,12}"), 0..5),
    )
        .prop_map(|((provider, header), secret, bytes, fields)| {
            let body = body_for(provider, bytes, fields);
            (Signed::new(provider, &secret, body), header)
        })
}

/// Whether changing `from` to `to` leaves a signature the same: hex is read in either case.
fn same_hex_digit(from: u8, to: u8) -> bool {
    from.is_ascii_hexdigit() && from.is_ascii_alphabetic() && from.eq_ignore_ascii_case(&to)
}

proptest! {
    // Each case is one HMAC over at most a few hundred bytes: 1024 cases take well under a second.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_request_signed_as_its_provider_signs_verifies((signed, _) in signed()) {
        prop_assert_eq!(signed.verify(), Ok(0), "{}", signed.provider);
    }

    #[test]
    fn one_changed_byte_of_the_signature_header_is_refused(
        (mut signed, header) in signed(),
        at in any::<Index>(),
        byte in any::<u8>(),
    ) {
        let value = signed.header_mut(header);
        let at = at.index(value.len());
        prop_assume!(value[at] != byte && !same_hex_digit(value[at], byte));
        value[at] = byte;
        let changed = String::from_utf8_lossy(signed.header_mut(header)).into_owned();
        prop_assert!(signed.verify().is_err(), "{}: {} accepted", signed.provider, changed);
    }

    /// Twilio is left out: it signs the decoded form fields, and `%2B` and `%2b` decode alike.
    #[test]
    fn one_changed_byte_of_the_body_is_refused(
        (mut signed, _) in signed().prop_filter("a raw-body signer", |(s, _)| s.provider != "twilio"),
        at in any::<Index>(),
        byte in any::<u8>(),
    ) {
        prop_assume!(!signed.body.is_empty());
        let at = at.index(signed.body.len());
        prop_assume!(signed.body[at] != byte);
        signed.body[at] = byte;
        prop_assert!(signed.verify().is_err(), "{}: changed body accepted", signed.provider);
    }
}
