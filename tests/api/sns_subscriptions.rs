//! AWS SNS subscription handshakes through the real route: a verified SubscriptionConfirmation
//! is answered 200 and never stored; with `auto_confirm` its SubscribeURL is fetched (only from
//! an allowed host), otherwise the operator is told to confirm it in `GET /admin/handshakes`.
//! Messages are signed here with ring and the fixture key over SNS's canonical string as AWS
//! documents it, independently of `hookgate::verify`.

use crate::helpers::*;
use crate::x509_sources::{CertServer, signing_key};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::RSA_PKCS1_SHA256;
use serde_json::json;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:hookgate-test";

/// A SubscriptionConfirmation for `subscribe_url`, SignatureVersion 2: SHA256withRSA over
/// "Name\nValue\n" for Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
fn confirmation(subscribe_url: &str, cert_url: &str) -> String {
    let fields = [
        ("Message", "You have chosen to subscribe to the topic."),
        ("MessageId", &*uuid::Uuid::now_v7().to_string()),
        ("SubscribeURL", subscribe_url),
        ("Timestamp", "2025-03-01T12:00:02.000Z"),
        (
            "Token",
            "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f7903",
        ),
        ("TopicArn", TOPIC),
        ("Type", "SubscriptionConfirmation"),
    ]
    .map(|(name, value)| (name, value.to_string()));
    let canonical: String = fields
        .iter()
        .map(|(name, value)| format!("{name}\n{value}\n"))
        .collect();
    let key = signing_key();
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        canonical.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let mut message = serde_json::Map::new();
    for (name, value) in fields {
        message.insert(name.to_string(), value.into());
    }
    message.insert("SignatureVersion".into(), "2".into());
    message.insert("Signature".into(), STANDARD.encode(signature).into());
    message.insert("SigningCertURL".into(), cert_url.into());
    serde_json::Value::Object(message).to_string()
}

fn sources(certs: &CertServer) -> String {
    let allowed = format!("allowed_cert_urls = [\"{}\"]", certs.base);
    format!(
        "\n[[sources]]\nid = \"sns-manual\"\nprovider = \"aws-sns\"\n{allowed}\n\
         \n[[sources]]\nid = \"sns-auto\"\nprovider = \"aws-sns\"\nauto_confirm = true\n{allowed}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_confirmations_are_confirmed_or_shown_never_stored() {
    let certs = CertServer::start().await;
    let app = spawn_app_with(TestOptions {
        extra_config: sources(&certs),
        ..Default::default()
    })
    .await;
    let text = headers(&[("Content-Type", "text/plain; charset=UTF-8")]);
    let cert = certs.url("cert.pem");
    let subscribe = certs.url(&format!(
        "?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f"
    ));

    let response = app
        .post("sns-auto", &text, confirmation(&subscribe, &cert))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        certs.requests(),
        2,
        "the certificate, then the SubscribeURL"
    );

    let before = certs.requests();
    let response = app
        .post("sns-manual", &text, confirmation(&subscribe, &cert))
        .await;
    assert_eq!(response.status(), 200);
    let elsewhere = "https://sns.evil.example/?Action=ConfirmSubscription&Token=x";
    let response = app
        .post("sns-auto", &text, confirmation(elsewhere, &cert))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(certs.requests(), before, "nothing else was fetched");

    let mut forged = confirmation(&subscribe, &cert);
    forged = forged.replace("2336412f37fb", "2336412f37fc");
    assert_eq!(app.post("sns-auto", &text, forged).await.status(), 401);

    assert_eq!(app.count("SELECT count(*) FROM events").await, 0);
    let listed = json(app.admin_get("/admin/handshakes").await).await;
    let rows: Vec<_> = listed["handshakes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            json!({
                "source": h["source"],
                "outcome": h["outcome"],
                "action": h["action"].as_str().map(|a| a.split(':').next().unwrap().to_string()),
            })
        })
        .collect();
    assert_eq!(
        rows,
        [
            json!({"source": "sns-auto", "outcome": "answered", "action": "confirm the subscription yourself"}),
            json!({"source": "sns-manual", "outcome": "answered", "action": "confirm the subscription by opening its SubscribeURL (or set auto_confirm = true)"}),
            json!({"source": "sns-auto", "outcome": "confirmed", "action": null}),
        ],
        "{listed}"
    );
    app.stop().await;
}
