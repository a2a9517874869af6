//! The body-signature, JWT and extended-HMAC providers through the real HTTP route. Every
//! request is signed here by a second implementation (the hmac/sha2 crates and serde_json, laid
//! out as each provider documents), never by `hookgate::verify`.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

/// Every provider of this file, with the signed part the tests break.
const PROVIDERS: [&str; 8] = [
    "mailgun",
    "adyen",
    "hubspot",
    "xero",
    "authorize-net",
    "workos",
    "recurly",
    "vonage",
];

fn hmac256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hmac512(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A request as the provider sends it.
#[derive(Clone)]
struct Signed {
    headers: Vec<(String, String)>,
    body: String,
}

/// The signature header of the header-signed providers.
fn signature_header(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "hubspot" => "X-HubSpot-Signature-v3",
        "xero" => "x-xero-signature",
        "authorize-net" => "X-ANET-Signature",
        "workos" => "WorkOS-Signature",
        "recurly" => "recurly-signature",
        "vonage" => "Authorization",
        _ => return None,
    })
}

/// Where the (first) signature is in the body of the body-signed providers.
fn signature_pointer(provider: &str) -> &'static str {
    match provider {
        "mailgun" => "/signature/signature",
        _ => "/notificationItems/0/NotificationRequestItem/additionalData/hmacSignature",
    }
}

/// Each provider's secrets: (current, previous).
fn secrets(provider: &str) -> (String, String) {
    match provider {
        "adyen" => (
            "00112233445566778899AABBCCDDEEFF".repeat(2),
            "ab".repeat(32),
        ),
        _ => (
            format!("{provider}-test-signing-secret"),
            "the-previous-signing-secret".to_string(),
        ),
    }
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}

fn adyen_item(key: &[u8], psp: &str, event: &str, value: i64) -> Value {
    let signed = format!("{psp}::TestMerchant:order-{psp}:{value}:EUR:{event}:true");
    json!({"NotificationRequestItem": {
        "additionalData": {"hmacSignature": STANDARD.encode(hmac256(key, signed.as_bytes()))},
        "amount": {"value": value, "currency": "EUR"},
        "pspReference": psp,
        "eventCode": event,
        "merchantAccountCode": "TestMerchant",
        "merchantReference": format!("order-{psp}"),
        "success": "true"
    }})
}

/// What `provider` sends for the event `seed` at unix time `t`, posted to `url`.
fn sign(provider: &str, secret: &str, seed: &str, t: i64, url: &str) -> Signed {
    let key = secret.as_bytes();
    let body = json_text(
        &json!({"id": seed, "event": "user.created", "event_type": "created",
        "eventType": "x", "notificationId": seed, "status": "delivered"}),
    );
    let header = |name: &str, value: String| vec![(name.to_string(), value)];
    let headers = match provider {
        "mailgun" => {
            let stamp = t.to_string();
            let signature = hex::encode(hmac256(key, format!("{stamp}{seed}").as_bytes()));
            let body = json!({
                "signature": {"timestamp": stamp, "token": seed, "signature": signature},
                "event-data": {"id": seed, "event": "delivered"}
            });
            return Signed {
                headers: Vec::new(),
                body: json_text(&body),
            };
        }
        "adyen" => {
            let key = hex::decode(secret).unwrap();
            let items = [
                adyen_item(&key, seed, "AUTHORISATION", 1130),
                adyen_item(&key, seed, "CAPTURE", 1130),
            ];
            let body = json!({"live": "false", "notificationItems": items});
            return Signed {
                headers: Vec::new(),
                body: json_text(&body),
            };
        }
        "hubspot" => {
            let millis = (t * 1000).to_string();
            let signed = format!("POST{url}{body}{millis}");
            let mut headers = header(
                "X-HubSpot-Signature-v3",
                STANDARD.encode(hmac256(key, signed.as_bytes())),
            );
            headers.push(("X-HubSpot-Request-Timestamp".into(), millis));
            headers
        }
        "xero" => header(
            "x-xero-signature",
            STANDARD.encode(hmac256(key, body.as_bytes())),
        ),
        "authorize-net" => header(
            "X-ANET-Signature",
            format!(
                "sha512={}",
                hex::encode_upper(hmac512(key, body.as_bytes()))
            ),
        ),
        "workos" => {
            let millis = (t * 1000).to_string();
            let signature = hex::encode(hmac256(key, format!("{millis}.{body}").as_bytes()));
            header("WorkOS-Signature", format!("t={millis}, v1={signature}"))
        }
        "recurly" => {
            let millis = (t * 1000).to_string();
            let signature = hex::encode(hmac256(key, format!("{millis}.{body}").as_bytes()));
            header("recurly-signature", format!("{millis},{signature}"))
        }
        "vonage" => {
            let claims = json!({"iat": t, "jti": seed, "iss": "Vonage",
                "payload_hash": hex::encode(Sha256::digest(body.as_bytes()))});
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(json_text(&claims))
            );
            let signature = URL_SAFE_NO_PAD.encode(hmac256(key, input.as_bytes()));
            header("Authorization", format!("Bearer {input}.{signature}"))
        }
        other => panic!("no signer for {other}"),
    };
    let mut headers = headers;
    headers.push(("Content-Type".into(), "application/json".into()));
    Signed { headers, body }
}

/// The request with its signed content changed after signing.
fn tampered(provider: &str, signed: &Signed) -> Signed {
    let body = match provider {
        "mailgun" => signed.body.replacen("\"token\":\"", "\"token\":\"x", 1),
        "adyen" => signed.body.replacen("\"value\":1130", "\"value\":1131", 1),
        _ => format!("{} ", signed.body),
    };
    Signed {
        headers: signed.headers.clone(),
        body,
    }
}

/// The request with its signature removed (`None`) or replaced by `text`.
fn with_signature(provider: &str, signed: &Signed, text: Option<&str>) -> Signed {
    let Some(name) = signature_header(provider) else {
        let mut body: Value = serde_json::from_str(&signed.body).unwrap();
        let (parent, field) = signature_pointer(provider).rsplit_once('/').unwrap();
        let parent = body.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        match text {
            Some(text) => parent.insert(field.to_string(), json!(text)),
            None => parent.remove(field),
        };
        return Signed {
            headers: signed.headers.clone(),
            body: json_text(&body),
        };
    };
    let mut headers: Vec<_> = signed
        .headers
        .iter()
        .filter(|(header, _)| !header.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    if let Some(text) = text {
        headers.push((name.to_string(), text.to_string()));
    }
    Signed {
        headers,
        body: signed.body.clone(),
    }
}

fn sources() -> String {
    PROVIDERS
        .iter()
        .map(|provider| {
            let (current, previous) = secrets(provider);
            format!(
                "\n[[sources]]\nid = \"{provider}\"\nprovider = \"{provider}\"\nsecrets = [\"{current}\", \"{previous}\"]\ndestinations = [\"billing\"]\n"
            )
        })
        .collect()
}

fn seed() -> String {
    format!("evt_{}", uuid::Uuid::now_v7().simple())
}

/// The tolerance each provider documents, where it signs a time.
fn tolerance(provider: &str) -> Option<i64> {
    match provider {
        "mailgun" => Some(32_400),
        "workos" => Some(180),
        "hubspot" | "recurly" | "vonage" => Some(300),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_jwt_and_extended_hmac_providers_verify_as_documented() {
    let app = spawn_app_with(TestOptions {
        extra_config: sources(),
        ..Default::default()
    })
    .await;
    for provider in PROVIDERS {
        let url = app.webhook_url(provider);
        let (current, previous) = secrets(provider);
        let valid = sign(provider, &current, &seed(), now(), &url);
        let wrong_key = match provider {
            "adyen" => "99".repeat(32),
            _ => "not-the-secret".to_string(),
        };
        let refused = [
            ("tampered", tampered(provider, &valid)),
            (
                "wrong key",
                sign(provider, &wrong_key, &seed(), now(), &url),
            ),
            ("missing signature", with_signature(provider, &valid, None)),
            (
                "malformed signature",
                with_signature(provider, &valid, Some("!!not a signature!!")),
            ),
        ];
        for (what, request) in refused {
            let response = app.post(provider, &request.headers, request.body).await;
            assert_eq!(response.status(), 401, "{provider}: {what}");
        }
        if let Some(tolerance) = tolerance(provider) {
            for (what, t) in [
                ("stale", now() - tolerance - 5),
                ("future", now() + tolerance + 5),
            ] {
                let request = sign(provider, &current, &seed(), t, &url);
                let response = app.post(provider, &request.headers, request.body).await;
                assert_eq!(response.status(), 401, "{provider}: {what}");
            }
        }
        // Xero and Adyen require their own answer to an accepted webhook (`[response]`).
        let expected = match provider {
            "xero" => (200, ""),
            "adyen" => (200, "[accepted]"),
            _ => (202, ""),
        };
        let answer = |response: reqwest::Response| async move {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, if status == 202 { String::new() } else { text })
        };
        let response = app.post(provider, &valid.headers, valid.body.clone()).await;
        let (status, text) = answer(response).await;
        assert_eq!((status, text.as_str()), expected, "{provider}: valid");
        let rotated = sign(provider, &previous, &seed(), now(), &url);
        let response = app.post(provider, &rotated.headers, rotated.body).await;
        let (status, text) = answer(response).await;
        assert_eq!(
            (status, text.as_str()),
            expected,
            "{provider}: previous key"
        );
    }
    let sources = app
        .count("SELECT count(DISTINCT source_id) FROM events")
        .await;
    assert_eq!(sources, PROVIDERS.len() as i64);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_and_tokens_are_401_not_5xx() {
    let app = spawn_app_with(TestOptions {
        extra_config: sources(),
        ..Default::default()
    })
    .await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    for provider in ["mailgun", "adyen"] {
        for body in [
            deep.clone(),
            deep_object.clone(),
            "not json".into(),
            "{}".into(),
        ] {
            let response = app.post(provider, &[], body).await;
            assert_eq!(response.status(), 401, "{provider}");
        }
        let url = app.webhook_url(provider);
        let valid = sign(provider, &secrets(provider).0, &seed(), now(), &url);
        // Just under the test config's max_body_bytes (64 KiB).
        let huge = with_signature(provider, &valid, Some(&"A".repeat(60 * 1024)));
        let response = app.post(provider, &huge.headers, huge.body).await;
        assert_eq!(response.status(), 401, "{provider}: huge signature");
    }
    let url = app.webhook_url("vonage");
    let valid = sign("vonage", &secrets("vonage").0, &seed(), now(), &url);
    let token = valid.headers[0].1.trim_start_matches("Bearer ").to_string();
    let (input, _) = token.rsplit_once('.').unwrap();
    let (_, claims) = input.split_once('.').unwrap();
    let none = format!("{}.{claims}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
    for bearer in [
        format!("Bearer {none}"),
        format!("Bearer {}", &token[..token.len() / 2]),
        format!("Bearer {}", "a".repeat(16 * 1024)),
    ] {
        let headers = vec![("Authorization".to_string(), bearer)];
        let response = app.post("vonage", &headers, valid.body.clone()).await;
        assert_eq!(response.status(), 401, "vonage");
    }
    app.stop().await;
}
