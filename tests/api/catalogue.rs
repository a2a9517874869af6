//! Every HMAC provider of the catalogue through the real HTTP route. Signatures come from a
//! second implementation here (the hmac/sha1/sha2 crates, laid out as each provider documents),
//! never from `hookgate::verify`.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Clone, Copy)]
enum Encoding {
    Hex,
    Base64,
}

/// How the signature header is laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// `<prefix><signature>`.
    Value(&'static str),
    /// `t=<t>,v1=<signature>` (Stripe's shape) with this timestamp key, or without a timestamp.
    Pairs(Option<&'static str>),
}

/// How the signed timestamp is written, and where.
#[derive(Clone, Copy)]
enum Stamp {
    None,
    /// Unix seconds in the signature header's pairs.
    Pair,
    /// In its own header, as unix seconds, milliseconds or RFC 3339.
    Header(&'static str, Clock),
}

#[derive(Clone, Copy)]
enum Clock {
    Seconds,
    Millis,
    Rfc3339,
}

/// One provider as its documentation describes it.
struct Spec {
    provider: &'static str,
    header: &'static str,
    algorithm: Algorithm,
    encoding: Encoding,
    layout: Layout,
    stamp: Stamp,
    /// The signed string from (timestamp, id header value, body).
    signed: fn(&str, &str, &str) -> String,
    /// A header whose value `signed` receives as the id, sent with every request.
    id_header: Option<&'static str>,
    tolerance_secs: i64,
}

fn body_only(_: &str, _: &str, body: &str) -> String {
    body.to_owned()
}

fn dotted(t: &str, _: &str, body: &str) -> String {
    format!("{t}.{body}")
}

fn specs() -> Vec<Spec> {
    use Algorithm::*;
    use Encoding::*;
    let spec = |provider, header, algorithm, encoding, layout| Spec {
        provider,
        header,
        algorithm,
        encoding,
        layout,
        stamp: Stamp::None,
        signed: body_only,
        id_header: None,
        tolerance_secs: 0,
    };
    let stamped = |provider, header, tolerance_secs| Spec {
        stamp: Stamp::Pair,
        signed: dotted,
        tolerance_secs,
        ..spec(provider, header, Sha256, Hex, Layout::Pairs(Some("t")))
    };
    vec![
        spec(
            "bitbucket",
            "X-Hub-Signature",
            Sha256,
            Hex,
            Layout::Value("sha256="),
        ),
        spec("gitea", "X-Gitea-Signature", Sha256, Hex, Layout::Value("")),
        spec("linear", "Linear-Signature", Sha256, Hex, Layout::Value("")),
        spec(
            "intercom",
            "X-Hub-Signature",
            Sha1,
            Hex,
            Layout::Value("sha1="),
        ),
        spec(
            "typeform",
            "Typeform-Signature",
            Sha256,
            Base64,
            Layout::Value("sha256="),
        ),
        stamped("calendly", "Calendly-Webhook-Signature", 180),
        spec(
            "woocommerce",
            "X-WC-Webhook-Signature",
            Sha256,
            Base64,
            Layout::Value(""),
        ),
        spec(
            "lemon-squeezy",
            "X-Signature",
            Sha256,
            Hex,
            Layout::Value(""),
        ),
        spec(
            "coinbase-commerce",
            "X-CC-Webhook-Signature",
            Sha256,
            Hex,
            Layout::Value(""),
        ),
        spec(
            "sentry",
            "Sentry-Hook-Signature",
            Sha256,
            Hex,
            Layout::Value(""),
        ),
        spec(
            "circleci",
            "circleci-signature",
            Sha256,
            Hex,
            Layout::Pairs(None),
        ),
        spec("vercel", "x-vercel-signature", Sha1, Hex, Layout::Value("")),
        spec(
            "pagerduty",
            "X-PagerDuty-Signature",
            Sha256,
            Hex,
            Layout::Pairs(None),
        ),
        spec("checkout", "Cko-Signature", Sha256, Hex, Layout::Value("")),
        spec(
            "gocardless",
            "Webhook-Signature",
            Sha256,
            Hex,
            Layout::Value(""),
        ),
        spec(
            "paystack",
            "x-paystack-signature",
            Sha512,
            Hex,
            Layout::Value(""),
        ),
        stamped("mux", "Mux-Signature", 300),
        spec(
            "alchemy",
            "X-Alchemy-Signature",
            Sha256,
            Hex,
            Layout::Value(""),
        ),
        spec(
            "line",
            "x-line-signature",
            Sha256,
            Base64,
            Layout::Value(""),
        ),
        spec(
            "heroku",
            "Heroku-Webhook-Hmac-SHA256",
            Sha256,
            Base64,
            Layout::Value(""),
        ),
        spec(
            "meta",
            "X-Hub-Signature-256",
            Sha256,
            Hex,
            Layout::Value("sha256="),
        ),
        spec(
            "dropbox",
            "X-Dropbox-Signature",
            Sha256,
            Hex,
            Layout::Value(""),
        ),
        spec(
            "notion",
            "X-Notion-Signature",
            Sha256,
            Hex,
            Layout::Value("sha256="),
        ),
        Spec {
            stamp: Stamp::Header("x-zm-request-timestamp", Clock::Seconds),
            signed: |t, _, body| format!("v0:{t}:{body}"),
            tolerance_secs: 300,
            ..spec("zoom", "x-zm-signature", Sha256, Hex, Layout::Value("v0="))
        },
        Spec {
            stamp: Stamp::Header("Twitch-Eventsub-Message-Timestamp", Clock::Rfc3339),
            signed: |t, id, body| format!("{id}{t}{body}"),
            id_header: Some("Twitch-Eventsub-Message-Id"),
            tolerance_secs: 600,
            ..spec(
                "twitch",
                "Twitch-Eventsub-Message-Signature",
                Sha256,
                Hex,
                Layout::Value("sha256="),
            )
        },
        spec(
            "x",
            "x-twitter-webhooks-signature",
            Sha256,
            Base64,
            Layout::Value("sha256="),
        ),
        Spec {
            stamp: Stamp::Header("x-webflow-timestamp", Clock::Millis),
            signed: |t, _, body| format!("{t}:{body}"),
            tolerance_secs: 300,
            ..spec(
                "webflow",
                "x-webflow-signature",
                Sha256,
                Hex,
                Layout::Value(""),
            )
        },
        Spec {
            stamp: Stamp::Header("X-Zendesk-Webhook-Signature-Timestamp", Clock::Rfc3339),
            signed: |t, _, body| format!("{t}{body}"),
            tolerance_secs: 300,
            ..spec(
                "zendesk",
                "X-Zendesk-Webhook-Signature",
                Sha256,
                Base64,
                Layout::Value(""),
            )
        },
        spec(
            "mollie",
            "X-Mollie-Signature",
            Sha256,
            Hex,
            Layout::Value("sha256="),
        ),
        stamped("persona", "Persona-Signature", 300),
    ]
}

fn mac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("any key length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, message),
    }
}

impl Spec {
    /// The headers this provider sends for `body` at unix time `t`.
    fn sign(&self, secret: &str, body: &str, t: i64, id: &str) -> Vec<(String, String)> {
        let stamp = match self.stamp {
            Stamp::Header(_, Clock::Millis) => (t * 1000).to_string(),
            Stamp::Header(_, Clock::Rfc3339) => OffsetDateTime::from_unix_timestamp(t)
                .unwrap()
                .format(&Rfc3339)
                .unwrap(),
            _ => t.to_string(),
        };
        let digest = mac(
            self.algorithm,
            secret.as_bytes(),
            (self.signed)(&stamp, id, body).as_bytes(),
        );
        let signature = match self.encoding {
            Encoding::Hex => hex::encode(digest),
            Encoding::Base64 => STANDARD.encode(digest),
        };
        let value = match self.layout {
            Layout::Value(prefix) => format!("{prefix}{signature}"),
            Layout::Pairs(Some(key)) => format!("{key}={stamp},v1={signature}"),
            Layout::Pairs(None) => format!("v1={signature}"),
        };
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (self.header.to_owned(), value),
        ];
        if let Stamp::Header(name, _) = self.stamp {
            headers.push((name.to_owned(), stamp));
        }
        if let Some(name) = self.id_header {
            headers.push((name.to_owned(), id.to_owned()));
        }
        headers
    }
}

const PREVIOUS_SECRET: &str = "the-previous-signing-secret";

fn secret_of(provider: &str) -> String {
    format!("{provider}-test-signing-secret")
}

/// One source per catalogue provider (source id = provider name), current then previous secret.
fn sources() -> String {
    specs()
        .iter()
        .map(|spec| {
            format!(
                "\n[[sources]]\nid = \"{0}\"\nprovider = \"{0}\"\nsecrets = [\"{1}\", \"{PREVIOUS_SECRET}\"]\ndestinations = [\"billing\"]\n",
                spec.provider,
                secret_of(spec.provider)
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalogue_provider_verifies_as_documented() {
    let app = spawn_app_with(TestOptions {
        extra_config: sources(),
        ..Default::default()
    })
    .await;
    for spec in specs() {
        let name = spec.provider;
        let secret = secret_of(name);
        let body = unique_body();
        let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
        let valid = spec.sign(&secret, &body, now(), &id);
        let without_signature: Vec<_> = valid
            .iter()
            .filter(|(header, _)| header != spec.header)
            .cloned()
            .collect();
        let mut malformed = without_signature.clone();
        malformed.push((spec.header.to_owned(), "!!not a signature!!".to_owned()));
        let refused = [
            ("tampered body", valid.clone(), format!("{body} ")),
            (
                "wrong secret",
                spec.sign("not-the-secret", &body, now(), &id),
                body.clone(),
            ),
            ("missing signature", without_signature, body.clone()),
            ("malformed signature", malformed, body.clone()),
        ];
        for (what, headers, sent) in refused {
            let response = app.post(name, &headers, sent).await;
            assert_eq!(response.status(), 401, "{name}: {what}");
        }
        if spec.tolerance_secs > 0 {
            // A few seconds past the edge: the server's clock may read a second later than ours.
            let late = spec.tolerance_secs + 5;
            for (what, t) in [("stale", now() - late), ("future", now() + late)] {
                let response = app
                    .post(name, &spec.sign(&secret, &body, t, &id), body.clone())
                    .await;
                assert_eq!(response.status(), 401, "{name}: {what} timestamp");
            }
        }
        let response = app.post(name, &valid, body.clone()).await;
        assert_eq!(response.status(), 202, "{name}: valid");

        let rotated_body = unique_body();
        let rotated_id = format!("msg_{}", uuid::Uuid::now_v7().simple());
        let rotated = spec.sign(PREVIOUS_SECRET, &rotated_body, now(), &rotated_id);
        let response = app.post(name, &rotated, rotated_body).await;
        assert_eq!(response.status(), 202, "{name}: the previous secret");
    }
    let sources = app
        .count("SELECT count(DISTINCT source_id) FROM events")
        .await;
    assert_eq!(sources, specs().len() as i64);
    app.stop().await;
}
