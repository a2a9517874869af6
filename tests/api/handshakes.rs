//! Handshakes through the real routes: each answered exactly as its provider expects, refused
//! when its signature or token is wrong, recorded for `GET /admin/handshakes`, and never stored
//! as an event. Signatures come from `independent_sign`, not from `hookgate::verify`.

use crate::helpers::*;
use crate::independent_sign as sign;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const SECRET: &str = "handshake-test-secret";
const VERIFY_TOKEN: &str = "meatyhamhock";

fn sources() -> String {
    let source = |provider: &str, extra: &str| {
        format!(
            "\n[[sources]]\nid = \"hs-{provider}\"\nprovider = \"{provider}\"\nsecrets = [\"{SECRET}\"]\ndestinations = [\"billing\"]\n{extra}"
        )
    };
    let mut text: String = ["slack", "zoom", "twitch", "dropbox", "x", "stripe"]
        .iter()
        .map(|id| source(id, ""))
        .collect();
    text.push_str(&source(
        "meta",
        &format!("verify_token = \"{VERIFY_TOKEN}\"\n"),
    ));
    text.push_str(
        "\n[[sources]]\nid = \"hs-notion\"\nprovider = \"notion\"\ndestinations = [\"billing\"]\n",
    );
    text
}

async fn get(app: &TestApp, source: &str, query: &str) -> reqwest::Response {
    app.http
        .get(format!("{}?{query}", app.webhook_url(source)))
        .send()
        .await
        .expect("request reaches hookgate")
}

async fn text(response: reqwest::Response) -> (u16, String) {
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_are_answered_as_each_provider_expects_and_never_stored() {
    let app = spawn_app_with(TestOptions {
        extra_config: sources(),
        ..Default::default()
    })
    .await;

    // Slack: https://api.slack.com/events/url_verification
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let answer = app
        .post("hs-slack", &sign::slack(SECRET, body, now()), body.to_vec())
        .await;
    assert_eq!(
        text(answer).await,
        (
            200,
            "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".to_string()
        )
    );
    let forged = app
        .post(
            "hs-slack",
            &sign::slack("wrong", body, now()),
            body.to_vec(),
        )
        .await;
    assert_eq!(
        forged.status(),
        401,
        "a handshake with a bad signature is refused"
    );

    // Zoom: https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let answer = app
        .post("hs-zoom", &sign::zoom(SECRET, body, now()), body.to_vec())
        .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        json(answer).await,
        json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": sign::hex_hmac(SECRET, b"qgg8vlvZRS6UYooatFL8Aw"),
        })
    );

    // Twitch: the challenge echoed as text/plain.
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#;
    let stamp = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let signed = sign::twitch(
        SECRET,
        body,
        "e76c6bd4",
        &stamp,
        "webhook_callback_verification",
    );
    let answer = app.post("hs-twitch", &signed, body.to_vec()).await;
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        text(answer).await,
        (200, "pogchamp-kappa-360noscope-vohiyo".to_string())
    );

    // Meta: hub.verify_token compared with the source's verify_token.
    let query =
        format!("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}");
    assert_eq!(
        text(get(&app, "hs-meta", &query).await).await,
        (200, "1158201444".to_string())
    );
    let wrong = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess";
    assert_eq!(get(&app, "hs-meta", wrong).await.status(), 401);

    // Dropbox: the challenge echoed with nosniff.
    let answer = get(&app, "hs-dropbox", "challenge=abc123").await;
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(text(answer).await, (200, "abc123".to_string()));

    // X: the CRC answered with the base64 HMAC of the token.
    let answer = get(&app, "hs-x", "crc_token=crc-4242").await;
    assert_eq!(answer.status(), 200);
    let expected = format!("sha256={}", sign::base64_hmac(SECRET, b"crc-4242"));
    assert_eq!(json(answer).await, json!({ "response_token": expected }));

    // A provider without a GET check.
    let answer = get(&app, "hs-stripe", "challenge=x").await;
    assert_eq!(answer.status(), 405);
    assert_eq!(answer.headers()["allow"], "POST");

    // Notion: its unsigned first request is answered while the source has no secret yet.
    let token = "secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl";
    let body = format!(r#"{{"verification_token":"{token}"}}"#);
    let answer = app
        .post(
            "hs-notion",
            &headers(&[("Content-Type", "application/json")]),
            body,
        )
        .await;
    assert_eq!(answer.status(), 200);
    let event = app
        .post(
            "hs-notion",
            &headers(&[("X-Notion-Signature", "sha256=00")]),
            "{}",
        )
        .await;
    assert_eq!(event.status(), 401, "without a secret, events are refused");

    assert_eq!(
        app.count("SELECT count(*) FROM events").await,
        0,
        "handshakes are never stored"
    );

    let listed = json(app.admin_get("/admin/handshakes").await).await;
    let handshakes = listed["handshakes"].as_array().unwrap();
    let kinds: Vec<(&str, &str, &str)> = handshakes
        .iter()
        .map(|h| {
            (
                h["source"].as_str().unwrap(),
                h["kind"].as_str().unwrap(),
                h["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("hs-notion", "verification_token", "answered"),
            ("hs-x", "crc", "answered"),
            ("hs-dropbox", "challenge", "answered"),
            ("hs-meta", "subscribe", "refused"),
            ("hs-meta", "subscribe", "answered"),
            ("hs-twitch", "webhook_callback_verification", "answered"),
            ("hs-zoom", "endpoint.url_validation", "answered"),
            ("hs-slack", "url_verification", "answered"),
        ],
        "newest first: {listed}"
    );
    let notion = &handshakes[0];
    assert!(
        notion["action"].as_str().unwrap().contains(token),
        "{notion}"
    );
    assert_eq!(handshakes[3]["reason"], "token_mismatch");

    let meta = json(
        app.admin_get("/admin/handshakes?source=hs-meta&limit=1")
            .await,
    )
    .await;
    assert_eq!(meta["handshakes"].as_array().unwrap().len(), 1);
    assert_eq!(meta["handshakes"][0]["outcome"], Value::from("refused"));
    let typo = app.admin_get("/admin/handshakes?sorce=meta").await;
    assert_eq!(typo.status(), 400);
    app.stop().await;
}
