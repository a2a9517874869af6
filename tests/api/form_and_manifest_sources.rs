//! Braintree (a signed form) and Mercado Pago (a signed manifest of `data.id`, `x-request-id` and
//! `ts`) through the real HTTP route. Every request is signed here by a second implementation
//! (the hmac/sha1/sha2 crates and a form serializer, laid out as each provider documents), never
//! by `hookgate::verify`.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use url::form_urlencoded;

const FORM: &str = "application/x-www-form-urlencoded";
/// Braintree secrets: a new API key pair, then the one being retired.
const BT_CURRENT: (&str, &str) = ("bt_public_new", "bt_private_new");
const BT_PREVIOUS: (&str, &str) = ("bt_public_old", "bt_private_old");
const MP_CURRENT: &str = "mp-current-secret-signature";
const MP_PREVIOUS: &str = "mp-previous-secret-signature";

fn sources() -> String {
    format!(
        "\n[[sources]]\nid = \"braintree\"\nprovider = \"braintree\"\nsecrets = [\"{}:{}\", \"{}:{}\"]\ndestinations = [\"billing\"]\n\
         \n[[sources]]\nid = \"mercadopago\"\nprovider = \"mercadopago\"\nsecrets = [\"{MP_CURRENT}\", \"{MP_PREVIOUS}\"]\ndestinations = [\"billing\"]\n",
        BT_CURRENT.0, BT_CURRENT.1, BT_PREVIOUS.0, BT_PREVIOUS.1
    )
}

fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Braintree's `bt_payload`: the notification XML in base64 with 60-character lines, as
/// Braintree's Ruby servers write it (`Base64.encode64`).
fn braintree_payload(id: &str) -> String {
    let xml = format!(
        "<notification>\n<timestamp type=\"datetime\">2023-11-14T22:13:20Z</timestamp>\n<kind>subscription_charged_successfully</kind>\n<subject><subscription><id>{id}</id></subscription></subject>\n</notification>\n"
    );
    let encoded = STANDARD.encode(xml);
    let mut payload = String::new();
    for line in encoded.as_bytes().chunks(60) {
        payload.push_str(std::str::from_utf8(line).unwrap());
        payload.push('\n');
    }
    payload
}

/// `public|hex HMAC-SHA1(key = SHA-1(private), payload)`.
fn braintree_pair((public, private): (&str, &str), payload: &str) -> String {
    let key = Sha1::digest(private.as_bytes());
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).expect("any key length");
    mac.update(payload.as_bytes());
    format!("{public}|{}", hex::encode(mac.finalize().into_bytes()))
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The form Braintree posts for a notification about `id`, signed with `keys`.
fn braintree_form(keys: (&str, &str), id: &str) -> String {
    let payload = braintree_payload(id);
    form(&[
        ("bt_signature", &braintree_pair(keys, &payload)),
        ("bt_payload", &payload),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn braintree_verifies_the_form_it_posts() {
    let app = spawn_app_with(TestOptions {
        extra_config: sources(),
        ..Default::default()
    })
    .await;
    let form_headers = headers(&[("Content-Type", FORM)]);
    let post = |body: String| app.post("braintree", &form_headers, body);

    let valid = braintree_form(BT_CURRENT, &unique());
    assert_eq!(post(valid.clone()).await.status(), 202, "valid");
    // A second API key's pair beside ours, as Braintree sends for accounts with several keys.
    let payload = braintree_payload(&unique());
    let two_pairs = format!(
        "{}&{}",
        braintree_pair(("someone_else", "their_private"), &payload),
        braintree_pair(BT_CURRENT, &payload)
    );
    let body = form(&[("bt_signature", &two_pairs), ("bt_payload", &payload)]);
    assert_eq!(post(body).await.status(), 202, "two pairs");
    let rotated = braintree_form(BT_PREVIOUS, &unique());
    assert_eq!(post(rotated).await.status(), 202, "previous key pair");

    let payload = braintree_payload(&unique());
    let signature = braintree_pair(BT_CURRENT, &payload);
    let tampered = payload.replacen("PG5v", "PG5w", 1);
    assert_ne!(tampered, payload);
    let huge = format!("{}|{}", BT_CURRENT.0, "a".repeat(60 * 1024));
    let refused = [
        (
            "tampered",
            form(&[("bt_signature", &signature), ("bt_payload", &tampered)]),
        ),
        (
            "wrong key",
            braintree_form((BT_CURRENT.0, "not_the_private_key"), &unique()),
        ),
        (
            "unknown public key",
            braintree_form(("not_configured", BT_CURRENT.1), &unique()),
        ),
        ("missing signature", form(&[("bt_payload", &payload)])),
        (
            "malformed signature",
            form(&[
                ("bt_signature", "!!not a signature!!"),
                ("bt_payload", &payload),
            ]),
        ),
        (
            "huge signature",
            form(&[("bt_signature", &huge), ("bt_payload", &payload)]),
        ),
        ("missing payload", form(&[("bt_signature", &signature)])),
        (
            "payload not base64",
            form(&[("bt_signature", &signature), ("bt_payload", "<xml/>")]),
        ),
        (
            "repeated payload",
            form(&[
                ("bt_signature", &signature),
                ("bt_payload", &payload),
                ("bt_payload", &tampered),
            ]),
        ),
        ("json body", unique_body()),
        ("empty body", String::new()),
        ("ampersands", "&".repeat(60 * 1024)),
    ];
    for (what, body) in refused {
        assert_eq!(post(body).await.status(), 401, "braintree: {what}");
    }
    let accepted = app
        .count("SELECT count(*) FROM events WHERE source_id = 'braintree'")
        .await;
    assert_eq!(accepted, 3);
    let duplicate = post(valid).await;
    assert!(
        duplicate.status().is_success(),
        "a resent form is a duplicate"
    );
    let stored = app
        .count("SELECT count(*) FROM events WHERE source_id = 'braintree'")
        .await;
    assert_eq!(stored, 3, "the resent form is stored once (its body hash)");
    app.stop().await;
}

/// Mercado Pago's manifest, with the parts the notification lacks left out.
fn manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut manifest = String::new();
    if let Some(id) = data_id {
        manifest.push_str(&format!("id:{};", id.to_ascii_lowercase()));
    }
    if let Some(request_id) = request_id {
        manifest.push_str(&format!("request-id:{request_id};"));
    }
    manifest.push_str(&format!("ts:{ts};"));
    manifest
}

/// One Mercado Pago notification: the source path with its query, headers and body.
struct Notification {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn mercadopago(
    secret: &str,
    data_id: Option<&str>,
    request_id: Option<&str>,
    ts: &str,
) -> Notification {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(manifest(data_id, request_id, ts).as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let mut headers = headers(&[
        ("Content-Type", "application/json"),
        ("x-signature", &format!("ts={ts},v1={signature}")),
    ]);
    if let Some(request_id) = request_id {
        headers.push(("x-request-id".into(), request_id.into()));
    }
    let notification_id = u64::from_str_radix(&unique()[20..], 16).unwrap();
    let body = serde_json::json!({
        "id": notification_id, "live_mode": false, "type": "payment",
        "action": "payment.updated", "api_version": "v1",
        "data": {"id": data_id.unwrap_or_default()}
    })
    .to_string();
    let path = match data_id {
        Some(id) => format!("mercadopago?data.id={id}&type=payment"),
        None => "mercadopago".to_string(),
    };
    Notification {
        path,
        headers,
        body,
    }
}

fn millis(t: i64) -> String {
    (t * 1000).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mercadopago_verifies_the_signed_manifest() {
    let app = spawn_app_with(TestOptions {
        extra_config: sources(),
        ..Default::default()
    })
    .await;
    let shared = &app;
    let send = |n: Notification| async move {
        shared
            .post(&n.path, &n.headers, n.body)
            .await
            .status()
            .as_u16()
    };
    let request_id = unique();
    let rid = Some(request_id.as_str());
    let accepted = [
        (
            "valid (ts in ms)",
            mercadopago(MP_CURRENT, Some("1234567890"), rid, &millis(now())),
        ),
        (
            "ts in seconds",
            mercadopago(MP_CURRENT, Some("1234567891"), rid, &now().to_string()),
        ),
        (
            "upper-case order id, no request id",
            mercadopago(MP_CURRENT, Some("ORD01JQ4S4KY8HW"), None, &millis(now())),
        ),
        (
            "no data.id",
            mercadopago(MP_CURRENT, None, rid, &millis(now())),
        ),
        (
            "previous secret",
            mercadopago(MP_PREVIOUS, Some("1234567892"), rid, &millis(now())),
        ),
    ];
    for (what, notification) in accepted {
        assert_eq!(send(notification).await, 202, "mercadopago: {what}");
    }

    let valid = || mercadopago(MP_CURRENT, Some("1234567890"), rid, &millis(now()));
    let with_signature = |value: Option<&str>| {
        let mut n = valid();
        n.headers.retain(|(name, _)| name != "x-signature");
        if let Some(value) = value {
            n.headers.push(("x-signature".into(), value.into()));
        }
        n
    };
    let mut other_id = valid();
    other_id.path = other_id.path.replace("1234567890", "1234567899");
    let mut other_request = valid();
    other_request
        .headers
        .retain(|(name, _)| name != "x-request-id");
    other_request
        .headers
        .push(("x-request-id".into(), unique()));
    let mut no_request_id = valid();
    no_request_id
        .headers
        .retain(|(name, _)| name != "x-request-id");
    let huge = format!("ts={},v1={}", now(), "a".repeat(60 * 1024));
    let refused = [
        ("tampered data.id", other_id),
        ("tampered request id", other_request),
        ("request id removed", no_request_id),
        (
            "wrong key",
            mercadopago("not-the-secret", Some("1234567890"), rid, &millis(now())),
        ),
        ("missing signature", with_signature(None)),
        (
            "malformed signature",
            with_signature(Some("this-is-garbage")),
        ),
        ("huge signature", with_signature(Some(&huge))),
        (
            "stale",
            mercadopago(MP_CURRENT, Some("1234567890"), rid, &millis(now() - 305)),
        ),
        (
            "future",
            mercadopago(
                MP_CURRENT,
                Some("1234567890"),
                rid,
                &(now() + 305).to_string(),
            ),
        ),
    ];
    for (what, notification) in refused {
        assert_eq!(send(notification).await, 401, "mercadopago: {what}");
    }
    let types = app
        .count(
            "SELECT count(*) FROM events WHERE source_id = 'mercadopago' AND event_type = 'payment.updated'",
        )
        .await;
    assert_eq!(types, 5);
    app.stop().await;
}
