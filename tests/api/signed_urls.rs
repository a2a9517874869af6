//! The URL that URL-signing schemes check: `public_url` plus the query each request carries
//! (Twilio appends `bodySHA256` to JSON webhooks), and forwarding headers trusted only when
//! `[server] trust_forwarded_headers` says so.

use crate::helpers::*;
use crate::independent_sign as sign;
use hookgate::app::Role;

const TOKEN: &str = "twilio-auth-token";

fn twilio_source(id: &str, public_url: Option<&str>) -> String {
    let public_url = public_url.map_or(String::new(), |url| format!("public_url = \"{url}\"\n"));
    format!(
        "\n[[sources]]\nid = \"{id}\"\nprovider = \"twilio\"\nsecrets = [\"{TOKEN}\"]\ndestinations = [\"billing\"]\n{public_url}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_url_is_signed_with_the_query_received() {
    let app = spawn_app_with(TestOptions {
        extra_config: twilio_source(
            "tw-json",
            Some("https://hooks.example.com/webhooks/tw-json"),
        ),
        ..Default::default()
    })
    .await;
    // Computed with Twilio's own validator (the twilio package, RequestValidator):
    //   body = '{"CallSid":"CA1234567890ABCDE","CallStatus":"completed"}'
    //   h = hashlib.sha256(body.encode()).hexdigest()
    //   url = "https://hooks.example.com/webhooks/tw-json?bodySHA256=" + h
    //   RequestValidator("twilio-auth-token").compute_signature(url, {})
    //   and RequestValidator.validate(url, body, signature) is True.
    let body = r#"{"CallSid":"CA1234567890ABCDE","CallStatus":"completed"}"#;
    let hash = "d9c5d12fd882ca9a84684e362e36cd06396d25f809baea7ae9e6eb9e8a7d0502";
    let signed = headers(&[
        ("Content-Type", "application/json"),
        ("X-Twilio-Signature", "DwjDbHR9hDM8s+Px8Le3YhMXmuU="),
    ]);
    let post = |query: String, body: &'static str| {
        let request = app
            .http
            .post(format!("{}?{query}", app.webhook_url("tw-json")))
            .body(body);
        signed
            .iter()
            .fold(request, |request, (name, value)| {
                request.header(name, value)
            })
            .send()
    };
    let accepted = post(format!("bodySHA256={hash}"), body).await.unwrap();
    assert_eq!(accepted.status(), 202, "{}", accepted.text().await.unwrap());
    let other_query = post(format!("bodySHA256={hash}&x=1"), body).await.unwrap();
    assert_eq!(
        other_query.status(),
        401,
        "the query is part of what Twilio signs"
    );
    let tampered = post(format!("bodySHA256={hash}"), r#"{"CallSid":"CA0"}"#)
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_headers_are_trusted_only_when_configured() {
    let form = b"CallSid=CA1&From=%2B15551234567";
    let forwarded_url = "https://public.example.com/webhooks/tw-form";
    let mut forged = sign::twilio(TOKEN, forwarded_url, form);
    forged.extend(headers(&[
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "public.example.com"),
    ]));

    let untrusting = spawn_app_with(TestOptions {
        extra_config: twilio_source("tw-form", None),
        ..Default::default()
    })
    .await;
    let refused = untrusting.post("tw-form", &forged, form.to_vec()).await;
    assert_eq!(
        refused.status(),
        401,
        "a client may not choose the signed URL"
    );
    let own_url = untrusting.webhook_url("tw-form");
    let direct = sign::twilio(TOKEN, &own_url, form);
    let accepted = untrusting.post("tw-form", &direct, form.to_vec()).await;
    assert_eq!(accepted.status(), 202, "the request's own URL is signed");
    untrusting.stop().await;

    let database = create_database(&server_url()).await;
    let text = config_text(
        &database.url,
        &Dest::default(),
        &Dest::default(),
        &twilio_source("tw-form", None),
    )
    .replace(
        "max_body_bytes = 65536",
        "max_body_bytes = 65536\ntrust_forwarded_headers = true",
    );
    let trusting = start(&text, database, Role::default()).await;
    let accepted = trusting.post("tw-form", &forged, form.to_vec()).await;
    assert_eq!(
        accepted.status(),
        202,
        "behind a trusted proxy, its headers make the URL"
    );
    trusting.stop().await;
}
