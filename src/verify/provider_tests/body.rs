//! Vectors of the providers signing inside the body (`body-signature`), with a JWT (`jwt`), and
//! of the HMAC providers that needed a template or header-layout extension. Published examples
//! are used as published (origin next to each); the others were computed with python3's
//! standard library (`hmac`, `hashlib`, `base64`, `json`), independently of this crate, with the
//! expression in a comment.

use serde_json::{Value, json};

use super::*;

/// Header-signed vectors, checked by every generic test of `provider_tests.rs`.
pub(super) fn vectors() -> Vec<Vector> {
    vec![
        // HubSpot's own SDK test, hubspot-api-python tests/spec/utils/test_signature.py,
        // `test_get_signature__v3` (timestamp 15000000 ms).
        Vector {
            provider: "hubspot",
            secret: "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
            url: "https://www.example.com/webhook_uri",
            body: b"{'example_field':'example_value'}",
            now: 15_000,
            sig: 0,
            headers: vec![
                (
                    "X-HubSpot-Signature-v3",
                    "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
                ),
                ("X-HubSpot-Request-Timestamp", "15000000"),
            ],
            // python3: hashlib.sha256(body).hexdigest() (not JSON: no type)
            identity: (
                "5cdb2ce9f116f879efc37c6402eec59b3738b2c5783ba63ad68963aaee07ff2a",
                None,
            ),
        },
        // python3: base64.b64encode(hmac.new(b"xero-webhook-key", body, sha256).digest())
        Vector {
            provider: "xero",
            secret: "xero-webhook-key",
            url: "https://hooks.example.com/webhooks/xero",
            body: br#"{"events":[{"eventType":"CREATE","resourceId":"r1"}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"S0MEENTROPY"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "x-xero-signature",
                "PEeJtCEPw0SerQlorpiusEnLXdkBsqCl8BnN9JR8M+s=",
            )],
            identity: (XERO_BODY_SHA256, Some("CREATE")),
        },
        // python3: hmac.new(("0123456789ABCDEF" * 8).encode(), body, sha512).hexdigest().upper()
        // (the Signature Key is used as the text shown, not hex-decoded)
        Vector {
            provider: "authorize-net",
            secret: "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
            url: "https://hooks.example.com/webhooks/authorize-net",
            body: br#"{"notificationId":"d0e8e7fe-c3e7-4add-a480-27bc5ce28e6c","eventType":"net.authorize.payment.authcapture.created","eventDate":"2023-11-14T22:13:20.000Z","webhookId":"1","payload":{"responseCode":1,"authAmount":45.00,"entityName":"transaction","id":"60020981676"}}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "X-ANET-Signature",
                "sha512=03C47B151EAB266909526378B82A26D34DC4ABF95DF1A2153358E80526CB776B3E05508D52DDB377466A2F719BE4D46778B63872931F0003C856E1775DC198F3",
            )],
            identity: (
                "d0e8e7fe-c3e7-4add-a480-27bc5ce28e6c",
                Some("net.authorize.payment.authcapture.created"),
            ),
        },
        // python3: hmac.new(b"workos-webhook-secret", b"1700000000000." + body, sha256).hexdigest()
        Vector {
            provider: "workos",
            secret: "workos-webhook-secret",
            url: "https://hooks.example.com/webhooks/workos",
            body: br#"{"id":"event_01HWWSNZM9HQTH8A5XT9Y5D1CA","event":"user.created","data":{"object":"user","id":"user_01E4ZCR3C56J083X43JQXF3JK5"},"created_at":"2023-11-14T22:13:20.000Z"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "WorkOS-Signature",
                "t=1700000000000, v1=6152a0e963f57dca666ec5e25ffba20a0604ebaa1ccde7aaa92f82e29a6076de",
            )],
            identity: ("event_01HWWSNZM9HQTH8A5XT9Y5D1CA", Some("user.created")),
        },
        // python3: hmac.new(secret, b"1700000000000." + body, sha256).hexdigest() with
        // b"recurly-old-secret" (listed first, as during a rotation) and b"recurly-webhook-secret"
        Vector {
            provider: "recurly",
            secret: "recurly-webhook-secret",
            url: "https://hooks.example.com/webhooks/recurly",
            body: br#"{"id":"qvb6dm6cu1bk","object_type":"subscription","site_id":"ounsx0eodnoe","event_type":"created","event_time":"2023-11-14T22:13:20Z","uuid":"5f3c7c2c1e3a4b9f"}"#,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![(
                "recurly-signature",
                "1700000000000,9144414944eb31bfba7ac675841e9ff080b307c313515cda928aa20050bbb7f4,77ed5e633ce7ef4b6556c13a8083bf091d311091caa816fa26d4778565f5b02d",
            )],
            identity: ("qvb6dm6cu1bk", Some("created")),
        },
        // python3 (stdlib only): b64url('{"alg":"HS256","typ":"JWT"}') + "." + b64url(claims) +
        // "." + b64url(hmac.new(b"vonage-signature-secret", signing_input, sha256).digest()),
        // claims {"iat":1700000000,"jti":...,"iss":"Vonage","payload_hash":
        // hashlib.sha256(body).hexdigest(),"api_key":"abcd1234","application_id":...}
        Vector {
            provider: "vonage",
            secret: "vonage-signature-secret",
            url: "https://hooks.example.com/webhooks/vonage",
            body: VONAGE_BODY,
            now: 1_700_000_000,
            sig: 0,
            headers: vec![("Authorization", VONAGE_BEARER)],
            identity: (VONAGE_BODY_SHA256, Some("delivered")),
        },
    ]
}

/// python3: hashlib.sha256(xero body).hexdigest()
const XERO_BODY_SHA256: &str = "d7ab275eb9f4d983e89a7359b763215ae5a4c4d833a3729a72b6a06dcfd5ffb5";

const VONAGE_BODY: &[u8] = br#"{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","to":"447700900000","from":"447700900001","timestamp":"2023-11-14T22:13:20Z","status":"delivered","channel":"sms"}"#;
/// python3: hashlib.sha256(VONAGE_BODY).hexdigest()
const VONAGE_BODY_SHA256: &str = "1f80daa228862405bab83538b2567e1e236fc8b07e2a78314cbef3a325ad3e13";
const VONAGE_BEARER: &str = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImMzZjZiYTBhLTViYzQtNGYxOS05YjFlLTJhMGUwYjRhOGEzYyIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6IjFmODBkYWEyMjg4NjI0MDViYWI4MzUzOGIyNTY3ZTFlMjM2ZmM4YjA3ZTJhNzgzMTRjYmVmM2EzMjVhZDNlMTMiLCJhcGlfa2V5IjoiYWJjZDEyMzQiLCJhcHBsaWNhdGlvbl9pZCI6ImFhYWFhYWFhLWJiYmItY2NjYy1kZGRkLTAxMjM0NTY3ODlhYiJ9.zLrroUq8uQZUADW4uPbdvACgBKfX7g95mjun42cB7ww";

/// The providers whose signature is in the body, tested below rather than by the header tests.
pub(super) const BODY_SIGNED: &[&str] = &["adyen", "mailgun"];

fn verify(
    provider_name: &str,
    body: &[u8],
    now: i64,
    secrets: &[&str],
) -> Result<usize, Rejection> {
    let provider = provider(provider_name);
    let keys: Vec<SecretKey> = secrets
        .iter()
        .map(|secret| provider.secret_key(secret).unwrap())
        .collect();
    let headers: Vec<(String, String)> = Vec::new();
    let request = test_request(
        &headers,
        body,
        "https://hooks.example.com/webhooks/body",
        now,
    );
    provider.verify(&request, &keys, None)
}

fn identity(provider_name: &str, body: &[u8]) -> EventIdentity {
    let headers: Vec<(String, String)> = Vec::new();
    provider(provider_name).identify(&test_request(
        &headers,
        body,
        "https://hooks.example.com/webhooks/body",
        0,
    ))
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// JSON nested `depth` arrays deep: past serde_json's recursion limit.
fn deeply_nested(depth: usize) -> Vec<u8> {
    let mut body = "[".repeat(depth).into_bytes();
    body.extend(std::iter::repeat_n(b']', depth));
    body
}

const MAILGUN_KEY: &str = "mailgun-signing-key";
const MAILGUN_TOKEN: &str = "a8ce0edb2dd8301dce9ba6b1e6a5b7c54d6f59e1a53f37e6de";

/// python3: hmac.new(b"mailgun-signing-key", b"1700000000" + token, sha256).hexdigest()
fn mailgun() -> Value {
    json!({
        "signature": {
            "timestamp": "1700000000",
            "token": MAILGUN_TOKEN,
            "signature": "e2c4f36068f42b6c45863eb856e4a2c648982d518759c13ffa618415f290840e"
        },
        "event-data": {"id": "CPgfbmQMTCKtHW6uIWtuVe", "event": "delivered"}
    })
}

#[test]
fn mailgun_signs_timestamp_and_token() {
    let body = bytes(&mailgun());
    assert_eq!(
        verify("mailgun", &body, 1_700_000_000, &[MAILGUN_KEY]),
        Ok(0)
    );
    assert_eq!(
        verify("mailgun", &body, 1_700_000_000, &["old-key", MAILGUN_KEY]),
        Ok(1),
        "rotation"
    );
    assert_eq!(
        verify("mailgun", &body, 1_700_000_000, &["wrong-key"]),
        Err(Rejection::SignatureMismatch)
    );
    let got = identity("mailgun", &body);
    assert_eq!(got.event_id, MAILGUN_TOKEN);
    assert_eq!(got.event_type.as_deref(), Some("delivered"));
}

#[test]
fn mailgun_tolerance_covers_its_retries() {
    let body = bytes(&mailgun());
    let tolerance = provider("mailgun").default_tolerance_secs().unwrap();
    // Mailgun retries for 10+10+15+30+60+120+240 minutes, resending the original signature.
    assert!(tolerance >= 485 * 60, "{tolerance}");
    let at = |now| verify("mailgun", &body, now, &[MAILGUN_KEY]);
    assert_eq!(at(1_700_000_000 + 485 * 60), Ok(0));
    assert_eq!(
        at(1_700_000_000 + tolerance as i64 + 1),
        Err(Rejection::TimestampOutOfTolerance)
    );
    assert_eq!(
        at(1_700_000_000 - tolerance as i64 - 1),
        Err(Rejection::TimestampOutOfTolerance)
    );
}

#[test]
fn mailgun_refusals() {
    let with = |pointer: &str, value: Value| {
        let mut body = mailgun();
        *body.pointer_mut(pointer).unwrap() = value;
        verify("mailgun", &bytes(&body), 1_700_000_000, &[MAILGUN_KEY])
    };
    let other_token = "b".repeat(50);
    assert_eq!(
        with("/signature/token", json!(other_token)),
        Err(Rejection::SignatureMismatch)
    );
    assert_eq!(
        with("/signature/timestamp", json!("1700000001")),
        Err(Rejection::SignatureMismatch)
    );
    assert_eq!(
        with("/signature/timestamp", json!("17e8")),
        Err(Rejection::MalformedTimestamp)
    );
    assert_eq!(
        with("/signature/timestamp", json!({"t": 1})),
        Err(Rejection::MalformedTimestamp)
    );
    assert_eq!(
        with("/signature/timestamp", Value::Null),
        Err(Rejection::MissingTimestamp)
    );
    assert_eq!(
        with("/signature/signature", Value::Null),
        Err(Rejection::MissingSignature)
    );
    assert_eq!(
        with("/signature/signature", json!("zz")),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        with("/signature/signature", json!(42)),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        with("/signature/signature", json!("a".repeat(1 << 20))),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        with("/signature", json!("flat")),
        Err(Rejection::MissingSignature)
    );
    assert_eq!(
        with("/signature/token", json!(["not", "text"])),
        Err(Rejection::SignatureMismatch)
    );
}

const ADYEN_RUBY_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

/// Adyen's item from adyen-ruby-api-library spec/utils/hmac_validator_spec.rb (the same item and
/// a different key in adyen-php-api-library tests/Adyen/Util/HmacSignatureTest.php).
fn adyen_item(signature: &str) -> Value {
    json!({
        "additionalData": {"hmacSignature": signature},
        "amount": {"value": 1130, "currency": "EUR"},
        "pspReference": "7914073381342284",
        "eventCode": "AUTHORISATION",
        "merchantAccountCode": "TestMerchant",
        "merchantReference": "TestPayment-1407325143704",
        "paymentMethod": "visa",
        "success": "true"
    })
}

/// python3: base64.b64encode(hmac.new(bytes.fromhex(ADYEN_RUBY_KEY), b"7914073381342285:
/// 7914073381342284:TestMerchant:TestPayment-1407325143704:1130:EUR:CAPTURE:true", sha256).digest())
fn adyen_capture() -> Value {
    json!({
        "additionalData": {"hmacSignature": "e/g/3vPo7kSdPb5N4LYuAQAH1vdIXuz7gJFDxMtsusw="},
        "amount": {"value": 1130, "currency": "EUR"},
        "pspReference": "7914073381342285",
        "originalReference": "7914073381342284",
        "eventCode": "CAPTURE",
        "merchantAccountCode": "TestMerchant",
        "merchantReference": "TestPayment-1407325143704",
        "success": "true"
    })
}

fn adyen_batch(items: Vec<Value>) -> Vec<u8> {
    let items: Vec<Value> = items
        .into_iter()
        .map(|item| json!({"NotificationRequestItem": item}))
        .collect();
    bytes(&json!({"live": "false", "notificationItems": items}))
}

const ADYEN_RUBY_SIGNATURE: &str = "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=";

#[test]
fn adyen_published_hmac_test_cases() {
    let ruby = adyen_batch(vec![adyen_item(ADYEN_RUBY_SIGNATURE)]);
    assert_eq!(verify("adyen", &ruby, 0, &[ADYEN_RUBY_KEY]), Ok(0));
    assert_eq!(
        verify("adyen", &ruby, 0, &[&ADYEN_RUBY_KEY.to_lowercase()]),
        Ok(0),
        "the hex key in either case"
    );
    let php = adyen_batch(vec![adyen_item(
        "Ny9gS2veKo5E4w8/OL6xz1/wvT/hYkAXy1xNc/QvO4I=",
    )]);
    let php_key = "DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00";
    assert_eq!(verify("adyen", &php, 0, &[ADYEN_RUBY_KEY, php_key]), Ok(1));
    assert_eq!(
        verify("adyen", &php, 0, &[ADYEN_RUBY_KEY]),
        Err(Rejection::SignatureMismatch)
    );
    let got = identity("adyen", &ruby);
    assert_eq!(got.event_type.as_deref(), Some("AUTHORISATION"));
    assert_eq!(got.event_id.len(), 64, "the body's SHA-256");
}

#[test]
fn adyen_every_item_must_verify() {
    let both = adyen_batch(vec![adyen_item(ADYEN_RUBY_SIGNATURE), adyen_capture()]);
    assert_eq!(verify("adyen", &both, 0, &[ADYEN_RUBY_KEY]), Ok(0));
    let mut tampered = adyen_capture();
    tampered["amount"]["value"] = json!(11300);
    let one_bad = adyen_batch(vec![adyen_item(ADYEN_RUBY_SIGNATURE), tampered]);
    assert_eq!(
        verify("adyen", &one_bad, 0, &[ADYEN_RUBY_KEY]),
        Err(Rejection::SignatureMismatch)
    );
    let mut unsigned = adyen_capture();
    unsigned["additionalData"] = json!({});
    let one_unsigned = adyen_batch(vec![adyen_item(ADYEN_RUBY_SIGNATURE), unsigned]);
    assert_eq!(
        verify("adyen", &one_unsigned, 0, &[ADYEN_RUBY_KEY]),
        Err(Rejection::MissingSignature)
    );
}

#[test]
fn adyen_hostile_bodies_are_rejections() {
    let refused = |body: &[u8]| verify("adyen", body, 0, &[ADYEN_RUBY_KEY]).unwrap_err();
    assert_eq!(
        refused(&deeply_nested(10_000)),
        Rejection::MalformedSignature
    );
    assert_eq!(refused(b"not json"), Rejection::MalformedSignature);
    assert_eq!(refused(b""), Rejection::MalformedSignature);
    let truncated = adyen_batch(vec![adyen_item(ADYEN_RUBY_SIGNATURE)]);
    assert_eq!(
        refused(&truncated[..truncated.len() - 3]),
        Rejection::MalformedSignature
    );
    assert_eq!(
        refused(br#"{"notificationItems":[]}"#),
        Rejection::MissingSignature
    );
    assert_eq!(
        refused(br#"{"notificationItems":{}}"#),
        Rejection::MissingSignature
    );
    assert_eq!(
        refused(br#"{"notificationItems":[{}]}"#),
        Rejection::MissingSignature
    );
    let huge = adyen_batch(vec![adyen_item(&"A".repeat(1 << 20))]);
    assert_eq!(refused(&huge), Rejection::MalformedSignature);
    let mut object_amount = adyen_item(ADYEN_RUBY_SIGNATURE);
    object_amount["amount"]["value"] = json!({"nested": [1, 2]});
    assert_eq!(
        refused(&adyen_batch(vec![object_amount])),
        Rejection::SignatureMismatch
    );
    let many: Vec<Value> = (0..2_000).map(|_| adyen_capture()).collect();
    assert_eq!(
        verify("adyen", &adyen_batch(many), 0, &[ADYEN_RUBY_KEY]),
        Ok(0)
    );
}

#[test]
fn body_signed_sign_round_trips() {
    let cases = [
        (
            "mailgun",
            MAILGUN_KEY,
            json!({"event-data": {"id": "e1", "event": "opened"}}),
        ),
        (
            "adyen",
            ADYEN_RUBY_KEY,
            json!({"live": "false", "notificationItems": [
                {"NotificationRequestItem": {"pspReference": "1", "eventCode": "REFUND",
                    "amount": {"value": 5, "currency": "EUR"}, "success": "true"}},
                {"NotificationRequestItem": {"pspReference": "2", "eventCode": "CAPTURE"}}
            ]}),
        ),
    ];
    for (name, secret, body) in cases {
        let signed = provider(name)
            .sign(&bytes(&body), secret, "https://h/", 1_800_000_000)
            .unwrap();
        assert_eq!(
            verify(name, &signed.body, 1_800_000_010, &["0000", secret]),
            Ok(1),
            "{name}"
        );
        assert_eq!(
            verify(name, &signed.body, 1_800_000_010, &["0000"]),
            Err(Rejection::SignatureMismatch),
            "{name}"
        );
    }
    let not_json = provider("adyen").sign(b"<xml/>", ADYEN_RUBY_KEY, "https://h/", 0);
    assert!(not_json.is_err());
}

fn vonage(headers: &[(&str, &str)], body: &[u8]) -> Result<(), Rejection> {
    let v = vectors()
        .into_iter()
        .find(|v| v.provider == "vonage")
        .unwrap();
    let headers = RawHeaders(
        headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect(),
    );
    v.check_with(&headers, body, v.now, &[v.secret], None)
}

/// A token signed here with the `hmac` crate (a second implementation, not hookgate's JWT code).
fn token(header: &str, claims: &Value, secret: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[test]
fn vonage_hostile_tokens() {
    let secret = b"vonage-signature-secret";
    let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = json!({"iat": 1_700_000_000, "payload_hash": VONAGE_BODY_SHA256});
    let bearer = |token: &str| format!("Bearer {token}");
    let check = |value: &str| vonage(&[("Authorization", value)], VONAGE_BODY);
    assert_eq!(check(&bearer(&token(hs256, &claims, secret))), Ok(()));

    let unsigned = token(r#"{"alg":"none","typ":"JWT"}"#, &claims, secret);
    let (input, _) = unsigned.rsplit_once('.').unwrap();
    assert_eq!(
        check(&bearer(&format!("{input}."))),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        check(&bearer(&unsigned)),
        Err(Rejection::MalformedSignature)
    );
    let rs256 = token(r#"{"alg":"RS256","typ":"JWT"}"#, &claims, secret);
    assert_eq!(check(&bearer(&rs256)), Err(Rejection::SignatureMismatch));
    let hs512 = token(r#"{"alg":"HS512","typ":"JWT"}"#, &claims, secret);
    assert_eq!(check(&bearer(&hs512)), Err(Rejection::SignatureMismatch));

    let valid = token(hs256, &claims, secret);
    for cut in [valid.len() - 5, valid.len() / 2, 10] {
        let refused = check(&bearer(&valid[..cut])).unwrap_err();
        assert!(
            matches!(
                refused,
                Rejection::MalformedSignature | Rejection::SignatureMismatch
            ),
            "{cut}: {refused:?}"
        );
    }
    let huge = format!("{}.{}.{}", "a".repeat(1 << 19), "b".repeat(1 << 19), "c");
    assert_eq!(check(&bearer(&huge)), Err(Rejection::MalformedSignature));
    assert_eq!(
        check(&valid),
        Err(Rejection::MalformedSignature),
        "no Bearer"
    );
    assert_eq!(check("Bearer "), Err(Rejection::MalformedSignature));

    let other_hash = json!({"iat": 1_700_000_000, "payload_hash": "ab".repeat(32)});
    assert_eq!(
        check(&bearer(&token(hs256, &other_hash, secret))),
        Err(Rejection::SignatureMismatch)
    );
    let no_hash = json!({"iat": 1_700_000_000});
    assert_eq!(
        check(&bearer(&token(hs256, &no_hash, secret))),
        Err(Rejection::SignatureMismatch)
    );
    let no_iat = json!({"payload_hash": VONAGE_BODY_SHA256});
    assert_eq!(
        check(&bearer(&token(hs256, &no_iat, secret))),
        Err(Rejection::MissingTimestamp)
    );
    let text_iat = json!({"iat": "1700000000", "payload_hash": VONAGE_BODY_SHA256});
    assert_eq!(
        check(&bearer(&token(hs256, &text_iat, secret))),
        Err(Rejection::MalformedTimestamp)
    );
    let claims_not_object = token(hs256, &json!([1, 2]), secret);
    assert_eq!(
        check(&bearer(&claims_not_object)),
        Err(Rejection::MalformedSignature)
    );
}

#[test]
fn recurly_needs_its_leading_timestamp() {
    let v = vectors()
        .into_iter()
        .find(|v| v.provider == "recurly")
        .unwrap();
    let signature = "77ed5e633ce7ef4b6556c13a8083bf091d311091caa816fa26d4778565f5b02d";
    for (value, expected) in [
        (signature.to_string(), Rejection::MalformedSignature),
        (
            format!("1700000000000.5,{signature}"),
            Rejection::MalformedTimestamp,
        ),
        (
            format!("{signature},1700000000000"),
            Rejection::MalformedSignature,
        ),
        (
            format!("1700000000001,{signature}"),
            Rejection::SignatureMismatch,
        ),
    ] {
        assert_eq!(
            v.check(&v.with_header(0, value.as_bytes())),
            Err(expected),
            "{value}"
        );
    }
}

#[test]
fn authorize_net_hex_in_either_case() {
    let v = vectors()
        .into_iter()
        .find(|v| v.provider == "authorize-net")
        .unwrap();
    let lower = v.headers[0].1.replace("sha512=", "").to_lowercase();
    let value = format!("sha512={lower}");
    assert_eq!(v.check(&v.with_header(0, value.as_bytes())), Ok(()));
}

#[test]
fn new_file_keys_are_checked() {
    let cases = [
        (
            "scheme = \"body-signature\"\nalgorithm = \"sha256\"\nsigned = \"{json:/a}\"\n[signature]\nheader = \"X\"\nencoding = \"hex\"\npointer = \"/s\"\n",
            "key `signature.header`: not used with scheme = \"body-signature\"",
        ),
        (
            "scheme = \"body-signature\"\nalgorithm = \"sha256\"\nsigned = \"{json:/a}\"\n[signature]\nencoding = \"hex\"\npointer = \"s\"\n",
            "key `signature.pointer`: must start with `/`",
        ),
        (
            "scheme = \"body-signature\"\nalgorithm = \"sha256\"\nsigned = \"{json:/a}\"\n[signature]\nencoding = \"hex\"\npointer = \"/s\"\nitems = \"/a/*/b/*\"\n",
            "key `signature.items`",
        ),
        (
            "scheme = \"body-signature\"\nalgorithm = \"sha256\"\nsigned = \"{body}{timestamp}\"\n[signature]\nencoding = \"hex\"\npointer = \"/s\"\n",
            "key `signed`: name signed fields with {json:/pointer}",
        ),
        (
            "scheme = \"hmac\"\nalgorithm = \"sha256\"\nsigned = \"{json:/a}\"\n[signature]\nheader = \"X\"\nencoding = \"hex\"\n",
            "key `signed`: `{json:…}` is only read by scheme = \"body-signature\"",
        ),
        (
            "scheme = \"hmac\"\nalgorithm = \"sha256\"\nsigned = \"{body}\"\n[signature]\nencoding = \"hex\"\n",
            "key `signature.header`: required",
        ),
        (
            "scheme = \"hmac\"\nalgorithm = \"sha256\"\nsigned = \"{timestamp}{body}\"\n[signature]\nheader = \"X\"\nencoding = \"hex\"\nformat = \"list\"\npair_separator = \",\"\n",
            "key `timestamp`: required with signature.format = \"list\"",
        ),
        (
            "scheme = \"jwt\"\n[signature]\nheader = \"Authorization\"\n",
            "key `jwt`: required with scheme = \"jwt\"",
        ),
        (
            "scheme = \"jwt\"\n[jwt]\nalgorithm = \"RS256\"\nbody_hash_claim = \"h\"\n[signature]\nheader = \"A\"\n",
            "key `jwt.algorithm`: must be HS256, HS384 or HS512",
        ),
        (
            "scheme = \"jwt\"\n[jwt]\nalgorithm = \"none\"\nbody_hash_claim = \"h\"\n[signature]\nheader = \"A\"\n",
            "unknown variant `none`",
        ),
        (
            "scheme = \"hmac\"\nalgorithm = \"sha256\"\nsigned = \"{body}\"\n[signature]\nheader = \"X\"\nencoding = \"hex\"\n[jwt]\nalgorithm = \"HS256\"\nbody_hash_claim = \"h\"\n",
            "key `jwt`: not used unless scheme = \"jwt\"",
        ),
    ];
    for (text, expected) in cases {
        let error = Provider::parse("custom", text).unwrap_err().to_string();
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
}
