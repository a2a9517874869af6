//! Each handshake against its provider's documented request; HMAC answers were computed with
//! python3's `hmac` module (commands beside them), never with this crate.

use serde_json::{Value, json};

use super::*;
use crate::verify::SecretKey;
use crate::verify::mac::Algorithm;

fn request<'a>(headers: &'a Vec<(String, String)>, body: &'a [u8], url: &'a str) -> Request<'a> {
    Request {
        headers,
        body,
        url,
        now_unix: 0,
        options: SourceOptions::NONE,
        certificate: None,
    }
}

fn key(secret: &str) -> SecretKey {
    SecretKey::mac(Algorithm::Sha256, secret.as_bytes())
}

fn verified(name: HandshakeName, headers: &[(&str, &str)], body: &str) -> Option<Answer> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    compile(name).verified(
        &request(&headers, body.as_bytes(), "https://h/w"),
        Some(&key("k")),
    )
}

fn json_body(answer: &Answer) -> Value {
    assert_eq!(answer.content_type, Some("application/json"));
    serde_json::from_slice(&answer.body).unwrap()
}

#[test]
fn slack_url_verification_echoes_the_challenge() {
    // https://api.slack.com/events/url_verification
    let body = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let answer = verified(HandshakeName::Slack, &[], body).unwrap();
    assert_eq!(
        (answer.status, answer.body.as_slice()),
        (
            200,
            &b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"[..]
        )
    );
    assert_eq!(answer.record.kind, "url_verification");
    let event = r#"{"type":"event_callback","event":{"text":"url_verification"}}"#;
    assert_eq!(verified(HandshakeName::Slack, &[], event), None);
}

#[test]
fn twitch_callback_verification_echoes_the_challenge_as_text() {
    // https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request
    let body = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
    let header = [(
        "Twitch-Eventsub-Message-Type",
        "webhook_callback_verification",
    )];
    let answer = verified(HandshakeName::Twitch, &header, body).unwrap();
    assert_eq!(answer.body, b"pogchamp-kappa-360noscope-vohiyo");
    assert_eq!(answer.content_type, Some("text/plain; charset=utf-8"));
    let notification = [("Twitch-Eventsub-Message-Type", "notification")];
    assert_eq!(verified(HandshakeName::Twitch, &notification, body), None);
}

#[test]
fn zoom_url_validation_answers_the_hmac_of_the_plain_token() {
    // https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
    let body = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let headers = Vec::new();
    let req = request(&headers, body.as_bytes(), "https://h/w");
    let answer = compile(HandshakeName::Zoom)
        .verified(&req, Some(&key("zoom_secret_token")))
        .unwrap();
    // python3 -c "import hmac,hashlib;print(hmac.new(b'zoom_secret_token',b'qgg8vlvZRS6UYooatFL8Aw',hashlib.sha256).hexdigest())"
    assert_eq!(
        json_body(&answer),
        json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": "bd48235863f4a6323ccc4963c594908b7c97f88b4a6a95278f4f093690b12726"
        })
    );
}

#[test]
fn x_crc_answers_the_base64_hmac_of_the_token() {
    let x = compile(HandshakeName::X);
    let slack = compile(HandshakeName::Slack);
    assert!(
        slack
            .get("crc_token=a", SourceOptions::NONE, &[key("k")])
            .is_none()
    );
    let answer = x
        .get(
            "crc_token=crc_abc&nonce=1",
            SourceOptions::NONE,
            &[key("consumer_secret")],
        )
        .unwrap()
        .unwrap();
    // python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'consumer_secret',b'crc_abc',hashlib.sha256).digest()).decode())"
    assert_eq!(
        json_body(&answer),
        json!({"response_token": "sha256=PT7laVqIRmcBEJAicNW7x60yBQ1zTo23EGO6cKmKoEo="})
    );
    let missing = x.get("nonce=1", SourceOptions::NONE, &[key("consumer_secret")]);
    assert_eq!(
        missing.unwrap().unwrap_err().rejection,
        Rejection::MissingSignature
    );
}

#[test]
fn discord_ping_is_answered_204_and_events_are_not() {
    let ping = verified(
        HandshakeName::Discord,
        &[],
        r#"{"version":1,"application_id":"1","type":0}"#,
    );
    assert_eq!(
        ping.map(|answer| (answer.status, answer.body)),
        Some((204, vec![]))
    );
    let event =
        r#"{"version":1,"application_id":"1","type":1,"event":{"type":"APPLICATION_AUTHORIZED"}}"#;
    assert_eq!(verified(HandshakeName::Discord, &[], event), None);
    assert_eq!(verified(HandshakeName::Discord, &[], "[[[[not json"), None);
}

#[test]
fn notion_verification_is_answered_unsigned_and_shows_the_token() {
    let notion = compile(HandshakeName::Notion);
    assert!(notion.allows_no_secret());
    let body = br#"{"verification_token":"secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"}"#;
    let unsigned = Vec::new();
    let answer = notion
        .unsigned(&request(&unsigned, body, "https://h/w"))
        .unwrap();
    assert_eq!(answer.status, 200);
    let action = answer.record.action.unwrap();
    assert!(
        action.contains("secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"),
        "{action}"
    );
    let signed = vec![("X-Notion-Signature".to_string(), "sha256=00".to_string())];
    assert_eq!(
        notion.unsigned(&request(&signed, body, "https://h/w")),
        None
    );
}

#[test]
fn meta_subscribe_compares_the_verify_token() {
    let meta = compile(HandshakeName::Meta);
    let options = SourceOptions {
        verify_token: Some("meatyhamhock".to_string()),
        ..SourceOptions::default()
    };
    // https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
    let query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";
    let answer = meta.get(query, &options, &[]).unwrap().unwrap();
    assert_eq!(answer.body, b"1158201444");
    let wrong = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhocks";
    let refused = meta.get(wrong, &options, &[]).unwrap().unwrap_err();
    assert_eq!(refused.rejection, Rejection::TokenMismatch);
    let unset = meta
        .get(query, SourceOptions::NONE, &[])
        .unwrap()
        .unwrap_err();
    assert_eq!(
        unset.rejection,
        Rejection::TokenMismatch,
        "no verify_token configured"
    );
    let not_subscribe = meta
        .get("hub.challenge=1", &options, &[])
        .unwrap()
        .unwrap_err();
    assert_eq!(not_subscribe.rejection, Rejection::MalformedSignature);
}

#[test]
fn dropbox_challenge_is_echoed_with_nosniff() {
    let answer = compile(HandshakeName::Dropbox)
        .get("challenge=%3Cb%3Ehi", SourceOptions::NONE, &[])
        .unwrap()
        .unwrap();
    assert_eq!(answer.body, b"<b>hi");
    assert_eq!(answer.content_type, Some("text/plain; charset=utf-8"));
    assert!(
        answer
            .headers
            .contains(&("X-Content-Type-Options", "nosniff"))
    );
}

#[test]
fn graph_validation_token_is_decoded_and_echoed() {
    // https://learn.microsoft.com/graph/change-notifications-delivery-webhooks#notificationurl-validation
    let headers = Vec::new();
    let url = "https://h/webhooks/graph?validationToken=Validation%3A%20Testing%20client%20application%20reachability";
    let answer = compile(HandshakeName::MsGraph)
        .unsigned(&request(&headers, b"", url))
        .unwrap();
    assert_eq!(
        answer.body,
        b"Validation: Testing client application reachability"
    );
    let plain = request(&headers, b"{}", "https://h/webhooks/graph");
    assert_eq!(compile(HandshakeName::MsGraph).unsigned(&plain), None);
}

#[test]
fn hostile_bodies_are_not_handshakes() {
    let deep = format!(
        "{}url_verification{}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(verified(HandshakeName::Slack, &[], &deep), None);
    let deep_object = format!("{{\"type\":{}0{}}}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(verified(HandshakeName::Discord, &[], &deep_object), None);
}
