//! Every shipped provider through the real HTTP route, with signatures computed by
//! `independent_sign` (plain HMAC code, not hookgate's).

use crate::helpers::*;
use crate::independent_sign as sign;

/// Builds a provider's headers for (secret, body, timestamp, url).
type Signer = fn(&str, &[u8], i64, &str) -> Vec<(String, String)>;

struct Case {
    source: &'static str,
    secret: &'static str,
    signature_header: &'static str,
    signs_timestamp: bool,
    form_body: bool,
    signer: Signer,
}

fn cases() -> Vec<Case> {
    use secrets::*;
    let case = |source, secret, signature_header, signs_timestamp, signer| Case {
        source,
        secret,
        signature_header,
        signs_timestamp,
        form_body: false,
        signer,
    };
    vec![
        case("stripe", STRIPE, "Stripe-Signature", true, |s, b, t, _| {
            sign::stripe(s, b, t)
        }),
        case(
            "github",
            GITHUB,
            "X-Hub-Signature-256",
            false,
            |s, b, t, _| sign::github(s, b, &format!("gh-{t}-{}", b.len())),
        ),
        case(
            "shopify",
            SHOPIFY,
            "X-Shopify-Hmac-Sha256",
            false,
            |s, b, t, _| sign::shopify(s, b, &format!("shop-{t}")),
        ),
        case("slack", SLACK, "X-Slack-Signature", true, |s, b, t, _| {
            sign::slack(s, b, t)
        }),
        case(
            "standard-webhooks",
            STANDARD,
            "webhook-signature",
            true,
            |s, b, t, _| {
                sign::standard_webhooks(s, &format!("msg_{}", uuid::Uuid::now_v7().simple()), t, b)
            },
        ),
        case(
            "razorpay",
            RAZORPAY,
            "X-Razorpay-Signature",
            false,
            |s, b, _, _| sign::razorpay(s, b, &format!("evt_{}", uuid::Uuid::now_v7().simple())),
        ),
        case("paddle", PADDLE, "Paddle-Signature", true, |s, b, t, _| {
            sign::paddle(s, b, t)
        }),
        case(
            "square",
            SQUARE,
            "x-square-hmacsha256-signature",
            false,
            |s, b, _, url| sign::square(s, url, b),
        ),
        Case {
            form_body: true,
            ..case(
                "twilio",
                TWILIO,
                "X-Twilio-Signature",
                false,
                |s, b, _, url| sign::twilio(s, url, b),
            )
        },
    ]
}

fn body_for(case: &Case) -> String {
    if case.form_body {
        format!(
            "CallSid=CA{}&From=%2B14158675310&To=%2B18005550100&Digits=1234",
            uuid::Uuid::now_v7().simple()
        )
    } else {
        unique_body()
    }
}

fn without(headers: &[(String, String)], name: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

fn replacing(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out = without(headers, name);
    out.push((name.to_owned(), value.to_owned()));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_accepts_a_valid_signature_and_rejects_every_bad_one() {
    let app = spawn_app().await;
    for case in cases() {
        let url = app.webhook_url(case.source);
        let sign = |secret: &str, body: &str, t: i64| {
            let mut headers = (case.signer)(secret, body.as_bytes(), t, &url);
            if case.form_body {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            headers
        };
        let body = body_for(&case);
        let valid = sign(case.secret, &body, now());
        let name = case.source;

        let tampered = format!("{body} ");
        let refused = [
            ("tampered body", valid.clone(), tampered),
            (
                "wrong secret",
                sign("whsec_d3Jvbmcgc2VjcmV0IGZvciB0ZXN0cw==", &body, now()),
                body.clone(),
            ),
            (
                "missing header",
                without(&valid, case.signature_header),
                body.clone(),
            ),
            (
                "malformed header",
                replacing(&valid, case.signature_header, "v1=,=;not a signature"),
                body.clone(),
            ),
        ];
        for (what, headers, sent_body) in refused {
            let response = app.post(name, &headers, sent_body).await;
            assert_eq!(response.status(), 401, "{name}: {what}");
        }
        if case.signs_timestamp {
            for (what, t) in [("stale", now() - 301), ("future", now() + 310)] {
                let response = app
                    .post(name, &sign(case.secret, &body, t), body.clone())
                    .await;
                assert_eq!(response.status(), 401, "{name}: {what} timestamp");
            }
        }

        let response = app.post(name, &valid, body.clone()).await;
        assert_eq!(response.status(), 202, "{name}: valid signature");
        assert_eq!(json(response).await["status"], "accepted");
    }
    let stored = app
        .count("SELECT count(DISTINCT source_id) FROM events")
        .await;
    assert_eq!(stored, cases().len() as i64);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_secret_still_verifies_during_rotation() {
    let app = spawn_app().await;
    let body = unique_body();
    let headers = sign::stripe(secrets::STRIPE_PREVIOUS, body.as_bytes(), now());
    assert_eq!(app.post("stripe", &headers, body).await.status(), 202);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn githubs_published_example_is_accepted() {
    let app = spawn_app().await;
    // From GitHub's "Validating webhook deliveries" documentation.
    let headers = headers(&[
        (
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("X-GitHub-Event", "ping"),
    ]);
    let response = app.post("github", &headers, "Hello, World!").await;
    assert_eq!(response.status(), 202);
    let ack = json(response).await;
    assert_eq!(ack["event_id"], "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_without_a_provider_id_is_identified_by_the_sha256_of_its_body() {
    let app = spawn_app().await;
    let body = r#"{"no":"id here"}"#;
    let headers = sign::square(secrets::SQUARE, &app.webhook_url("square"), body.as_bytes());
    let ack = json(app.post("square", &headers, body).await).await;
    // sha256sum of the body, computed outside the code under test.
    let digest = "2bfa5354522a4615b23819ed5cfe20da9a425cdc6d2cdc83a60369f5e7d47122";
    assert_eq!(ack["event_id"], digest);
    app.stop().await;
}
