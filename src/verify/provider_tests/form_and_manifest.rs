//! Braintree (a signed form) and Mercado Pago (a signed manifest of query, header and
//! timestamp, not of the body). Neither fits the generic HMAC tests: Braintree's signature is in
//! the body, Mercado Pago leaves the body unsigned. Neither publishes a complete signed request;
//! the signatures below were computed with python3's standard library, independently of this
//! crate, with the expression in a comment. Braintree's MAC itself is checked against the
//! published challenge answer of its SDKs in `braintree.rs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use url::form_urlencoded;

use super::*;

/// Braintree's SDK test key pair (braintree_python tests use these names).
const BRAINTREE_SECRET: &str = "integration_public_key:integration_private_key";

/// The notification XML, shaped after braintree_python's `WebhookTestingGateway`
/// (`subscription_went_past_due`), base64 as Python's `base64.encodebytes` writes it.
const BRAINTREE_XML: &str = "<notification>\n  <timestamp type=\"datetime\">2023-11-14T22:13:20Z</timestamp>\n  <kind>subscription_went_past_due</kind>\n  <subject>\n    <subscription>\n      <id>my_id</id>\n      <transactions type=\"array\"></transactions>\n      <add_ons type=\"array\"></add_ons>\n      <discounts type=\"array\"></discounts>\n    </subscription>\n  </subject>\n</notification>\n";

/// python3: payload = base64.encodebytes(xml);
/// sig = hmac.new(hashlib.sha1(b"integration_private_key").digest(), payload, hashlib.sha1)
/// .hexdigest(); urllib.parse.urlencode({"bt_signature": "integration_public_key|" + sig,
/// "bt_payload": payload})
const BRAINTREE_FORM: &[u8] = b"bt_signature=integration_public_key%7C821a0d3e7b34a87d606a3b8289ac2df9b52a6f38&bt_payload=PG5vdGlmaWNhdGlvbj4KICA8dGltZXN0YW1wIHR5cGU9ImRhdGV0aW1lIj4yMDIzLTExLTE0VDIy%0AOjEzOjIwWjwvdGltZXN0YW1wPgogIDxraW5kPnN1YnNjcmlwdGlvbl93ZW50X3Bhc3RfZHVlPC9r%0AaW5kPgogIDxzdWJqZWN0PgogICAgPHN1YnNjcmlwdGlvbj4KICAgICAgPGlkPm15X2lkPC9pZD4K%0AICAgICAgPHRyYW5zYWN0aW9ucyB0eXBlPSJhcnJheSI%2BPC90cmFuc2FjdGlvbnM%2BCiAgICAgIDxh%0AZGRfb25zIHR5cGU9ImFycmF5Ij48L2FkZF9vbnM%2BCiAgICAgIDxkaXNjb3VudHMgdHlwZT0iYXJy%0AYXkiPjwvZGlzY291bnRzPgogICAgPC9zdWJzY3JpcHRpb24%2BCiAgPC9zdWJqZWN0Pgo8L25vdGlm%0AaWNhdGlvbj4K%0A";
/// python3: hashlib.sha256(BRAINTREE_FORM).hexdigest()
const BRAINTREE_FORM_SHA256: &str =
    "57823c95a8f0cb5041fffae3d5757ccf6ce40c83db2835b1729b2a1958712c1d";

/// Two API keys' pairs (another key's first, as when an account has several), and the payload
/// without its trailing newline, which is signed with it (the SDKs' retry with "\n"). python3:
/// as above, with other = sig over payload keyed with sha1(b"other_private_key"),
/// bt_signature = "other_public_key|" + other + "&integration_public_key|" + sig and
/// bt_payload = payload.rstrip(b"\n").
const BRAINTREE_TWO_KEYS_FORM: &[u8] = b"bt_signature=other_public_key%7Ce3e5514aa752bd867a3cd37dc7354d66fcbc24a9%26integration_public_key%7C821a0d3e7b34a87d606a3b8289ac2df9b52a6f38&bt_payload=PG5vdGlmaWNhdGlvbj4KICA8dGltZXN0YW1wIHR5cGU9ImRhdGV0aW1lIj4yMDIzLTExLTE0VDIy%0AOjEzOjIwWjwvdGltZXN0YW1wPgogIDxraW5kPnN1YnNjcmlwdGlvbl93ZW50X3Bhc3RfZHVlPC9r%0AaW5kPgogIDxzdWJqZWN0PgogICAgPHN1YnNjcmlwdGlvbj4KICAgICAgPGlkPm15X2lkPC9pZD4K%0AICAgICAgPHRyYW5zYWN0aW9ucyB0eXBlPSJhcnJheSI%2BPC90cmFuc2FjdGlvbnM%2BCiAgICAgIDxh%0AZGRfb25zIHR5cGU9ImFycmF5Ij48L2FkZF9vbnM%2BCiAgICAgIDxkaXNjb3VudHMgdHlwZT0iYXJy%0AYXkiPjwvZGlzY291bnRzPgogICAgPC9zdWJzY3JpcHRpb24%2BCiAgPC9zdWJqZWN0Pgo8L25vdGlm%0AaWNhdGlvbj4K";

/// Mercado Pago's example notification body (its Webhooks documentation).
const MP_BODY: &[u8] = br#"{"id":12345,"live_mode":true,"type":"payment","date_created":"2015-03-25T10:04:58.396-04:00","user_id":44444,"api_version":"v1","action":"payment.created","data":{"id":"999999999"}}"#;
/// The secret, request id, order id and millisecond `ts` of sdk-nodejs's
/// src/utils/webhook/webhook.spec.ts fixtures.
const MP_SECRET: &str = "your_secret_key_here";
const MP_REQUEST_ID: &str = "2066ca19-c6f1-498a-be75-1923005edd06";

fn braintree(body: &'static [u8], identity: &'static str) -> Vector {
    Vector {
        provider: "braintree",
        secret: BRAINTREE_SECRET,
        url: "https://hooks.example.com/webhooks/braintree",
        body,
        now: 1_700_000_000,
        sig: 0,
        headers: vec![("Content-Type", "application/x-www-form-urlencoded")],
        identity: (identity, None),
    }
}

fn mercadopago(url: &'static str, signature: &'static str, request_id: bool, now: i64) -> Vector {
    let mut headers = vec![("x-signature", signature)];
    if request_id {
        headers.push(("x-request-id", MP_REQUEST_ID));
    }
    Vector {
        provider: "mercadopago",
        secret: MP_SECRET,
        url,
        body: MP_BODY,
        now,
        sig: 0,
        headers,
        identity: ("12345", Some("payment.created")),
    }
}

fn mercadopago_vectors() -> Vec<Vector> {
    vec![
        // python3: hmac.new(b"your_secret_key_here", b"id:999999999;request-id:2066ca19-c6f1-
        // 498a-be75-1923005edd06;ts:1742505638683;", hashlib.sha256).hexdigest() (ts in ms)
        mercadopago(
            "https://hooks.example.com/webhooks/mercadopago?data.id=999999999&type=payment",
            "ts=1742505638683,v1=28fe7557d9faae33f1283eb1423243ce48fc606c8afc17c8ad8ff70133d6a6f6",
            true,
            1_742_505_638,
        ),
        // An order id, signed lower-cased, without x-request-id (its part left out), ts in
        // seconds as in the documentation's example. python3: hmac.new(b"your_secret_key_here",
        // b"id:ord01jq4s4ky8hwq6na5pxb65b3d3;ts:1704908010;", hashlib.sha256).hexdigest()
        mercadopago(
            "https://hooks.example.com/webhooks/mercadopago?data.id=ORD01JQ4S4KY8HWQ6NA5PXB65B3D3&type=order",
            "ts=1704908010,v1=ed486ce3bde45d1077433ed1a7b5a486bfaea3ffb7d4449c43e72621ecf4e71a",
            false,
            1_704_908_010,
        ),
        // No data.id in the URL: its part left out. python3: hmac.new(b"your_secret_key_here",
        // b"request-id:2066ca19-c6f1-498a-be75-1923005edd06;ts:1704908010;", sha256).hexdigest()
        mercadopago(
            "https://hooks.example.com/webhooks/mercadopago",
            "ts=1704908010,v1=a2d8b9f2183063522f01ca8d71f1cf68f92eaeeeb2359d29caaf1a7b424f9ee6",
            true,
            1_704_908_010,
        ),
    ]
}

/// Every vector of this file.
pub(super) fn vectors() -> Vec<Vector> {
    let mut vectors = vec![
        braintree(BRAINTREE_FORM, BRAINTREE_FORM_SHA256),
        // python3: hashlib.sha256(BRAINTREE_TWO_KEYS_FORM).hexdigest()
        braintree(
            BRAINTREE_TWO_KEYS_FORM,
            "20d77bf1103dec5183121f1c001015cb7dcdd5cdef672b6f2369cc92d4436473",
        ),
    ];
    vectors.extend(mercadopago_vectors());
    vectors
}

#[test]
fn vectors_verify_and_identify() {
    for v in vectors() {
        assert_eq!(v.check(&v.headers()), Ok(()), "{} {}", v.provider, v.url);
        let rotated = v.check_with(&v.headers(), v.body, v.now, &[OTHER, v.secret], None);
        assert_eq!(rotated, Ok(()), "{} rotation", v.provider);
        let wrong = v.check_with(&v.headers(), v.body, v.now, &[OTHER], None);
        assert_eq!(wrong, Err(Rejection::SignatureMismatch), "{}", v.provider);
        assert_eq!(
            v.check_with(&v.headers(), v.body, v.now, &[], None),
            Err(Rejection::SignatureMismatch)
        );
        let headers = v.headers();
        let identity = provider(v.provider).identify(&test_request(&headers, v.body, v.url, v.now));
        assert_eq!(identity.event_id, v.identity.0, "{}", v.provider);
        assert_eq!(identity.event_type.as_deref(), v.identity.1);
    }
}

/// A wrong secret, usable by both providers.
const OTHER: &str = "other_public_key:wrong_private_key";

fn with_form(v: &Vector, body: &[u8]) -> Result<(), Rejection> {
    v.check_with(&v.headers(), body, v.now, &[v.secret], None)
}

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        serializer.append_pair(name, value);
    }
    serializer.finish().into_bytes()
}

/// `(bt_signature, bt_payload)` of a Braintree vector's form.
fn fields(body: &[u8]) -> (String, String) {
    let mut signature = None;
    let mut payload = None;
    for (name, value) in form_urlencoded::parse(body) {
        match &*name {
            "bt_signature" => signature = Some(value.into_owned()),
            "bt_payload" => payload = Some(value.into_owned()),
            _ => {}
        }
    }
    (signature.unwrap(), payload.unwrap())
}

#[test]
fn braintree_refuses_tampered_wrongly_keyed_and_hostile_forms() {
    let v = braintree(BRAINTREE_FORM, BRAINTREE_FORM_SHA256);
    let (signature, payload) = fields(BRAINTREE_FORM);
    assert!(payload.ends_with('\n'));
    let tampered = payload.replacen("PG5v", "PG5w", 1);
    let mismatch = Err(Rejection::SignatureMismatch);
    assert_eq!(
        with_form(
            &v,
            &form(&[("bt_signature", &signature), ("bt_payload", &tampered)])
        ),
        mismatch
    );
    // The right private key under another public key is not looked at.
    let other_public = v.check_with(
        &v.headers(),
        v.body,
        v.now,
        &["another_public_key:integration_private_key"],
        None,
    );
    assert_eq!(other_public, mismatch);
    let sig_hex = signature.split_once('|').unwrap().1;
    let renamed = format!("another_public_key|{sig_hex}");
    assert_eq!(
        with_form(
            &v,
            &form(&[("bt_signature", &renamed), ("bt_payload", &payload)])
        ),
        mismatch
    );
    let huge = format!("integration_public_key|{}", "a".repeat(1 << 20));
    let many_pairs = format!("{}{signature}", "x|y&".repeat(10_000));
    let cases: Vec<(Vec<u8>, Result<(), Rejection>)> = vec![
        (Vec::new(), Err(Rejection::MissingSignature)),
        (
            b"not a form at all".to_vec(),
            Err(Rejection::MissingSignature),
        ),
        (MP_BODY.to_vec(), Err(Rejection::MissingSignature)),
        (
            form(&[("bt_payload", &payload)]),
            Err(Rejection::MissingSignature),
        ),
        (
            form(&[("bt_signature", "  "), ("bt_payload", &payload)]),
            Err(Rejection::MissingSignature),
        ),
        (
            form(&[("bt_signature", &signature)]),
            Err(Rejection::MalformedMessage),
        ),
        (
            form(&[("bt_signature", &signature), ("bt_payload", "")]),
            Err(Rejection::MalformedMessage),
        ),
        (
            form(&[
                ("bt_signature", &signature),
                ("bt_payload", "~* invalid! *~"),
            ]),
            Err(Rejection::MalformedMessage),
        ),
        (
            form(&[
                ("bt_signature", &signature),
                ("bt_payload", &payload),
                ("bt_payload", "PHg+Cg=="),
            ]),
            Err(Rejection::MalformedMessage),
        ),
        (
            form(&[
                ("bt_signature", &signature),
                ("bt_signature", &signature),
                ("bt_payload", &payload),
            ]),
            Err(Rejection::MalformedMessage),
        ),
        (
            form(&[("bt_signature", "garbage"), ("bt_payload", &payload)]),
            Err(Rejection::MalformedSignature),
        ),
        (
            form(&[
                ("bt_signature", "integration_public_key|zz"),
                ("bt_payload", &payload),
            ]),
            Err(Rejection::MalformedSignature),
        ),
        (
            form(&[("bt_signature", &huge), ("bt_payload", &payload)]),
            Err(Rejection::MalformedSignature),
        ),
        (
            b"bt_signature=%FF%FE&bt_payload=%00".to_vec(),
            Err(Rejection::MalformedMessage),
        ),
        (
            form(&[("bt_signature", &many_pairs), ("bt_payload", &payload)]),
            Ok(()),
        ),
        // Other fields and their order do not matter.
        (
            form(&[
                ("bt_payload", &payload),
                ("x", "1"),
                ("bt_signature", &signature),
            ]),
            Ok(()),
        ),
    ];
    for (body, expected) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert_eq!(with_form(&v, &body), expected, "{shown}");
    }
}

#[test]
fn braintree_secrets_are_key_pairs() {
    let braintree = provider("braintree");
    for bad in [
        "",
        "s3cr3t",
        ":s3cr3t",
        "s3cr3t:",
        "pub|x:s3cr3t",
        "pub:s3cr3t:x",
    ] {
        let error = braintree.secret_key(bad).unwrap_err().to_string();
        assert!(error.contains("expected public_key:private_key"), "{error}");
        assert!(!error.contains("s3cr3t"), "{error}");
    }
    let error = Provider::parse(
        "custom",
        "scheme = \"braintree\"\n[signature]\nheader = \"X\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("key `signature.header`: not used by scheme = \"braintree\""),
        "{error}"
    );
}

#[test]
fn braintree_sign_posts_the_form_braintree_posts() {
    let braintree = provider("braintree");
    let url = "https://hooks.example.com/webhooks/braintree";
    let signed = braintree
        .sign(
            BRAINTREE_XML.as_bytes(),
            BRAINTREE_SECRET,
            url,
            1_800_000_000,
        )
        .unwrap();
    assert_eq!(
        signed.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    let (signature, payload) = fields(&signed.body);
    assert_eq!(
        STANDARD.decode(payload.trim_end()).unwrap(),
        BRAINTREE_XML.as_bytes()
    );
    assert!(signature.starts_with("integration_public_key|"));
    let request = test_request(&signed.headers, &signed.body, url, 1_800_000_000);
    let keys = [
        braintree.secret_key(OTHER).unwrap(),
        braintree.secret_key(BRAINTREE_SECRET).unwrap(),
    ];
    assert_eq!(braintree.verify(&request, &keys, None), Ok(1));
    assert_eq!(
        braintree.verify(&request, &keys[..1], None),
        Err(Rejection::SignatureMismatch)
    );
}

fn mp(index: usize) -> Vector {
    mercadopago_vectors().swap_remove(index)
}

#[test]
fn mercadopago_signs_the_manifest_not_the_body() {
    let v = mp(0);
    // The body is not part of the manifest: only data.id, x-request-id and ts protect it.
    assert_eq!(with_form(&v, b"{\"id\":1}"), Ok(()));
    let mismatch = Err(Rejection::SignatureMismatch);
    let other_id = Vector {
        url: "https://hooks.example.com/webhooks/mercadopago?data.id=999999998&type=payment",
        ..v.clone()
    };
    assert_eq!(other_id.check(&other_id.headers()), mismatch);
    assert_eq!(v.check(&v.with_header(1, b"2066ca19-other")), mismatch);
    // Leaving out a signed part is a different manifest, not a way around it.
    assert_eq!(v.check(&v.without_header(1)), mismatch);
    let no_id = Vector {
        url: "https://hooks.example.com/webhooks/mercadopago?type=payment",
        ..v.clone()
    };
    assert_eq!(no_id.check(&no_id.headers()), mismatch);
    // The order id is signed lower-cased: sent lower-cased, it is the same manifest.
    let order = mp(1);
    let lower = Vector {
        url: "https://hooks.example.com/webhooks/mercadopago?data.id=ord01jq4s4ky8hwq6na5pxb65b3d3",
        ..order.clone()
    };
    assert_eq!(lower.check(&lower.headers()), Ok(()));
    let with_request_id = order.headers().0.into_iter().chain([(
        "x-request-id".to_string(),
        MP_REQUEST_ID.as_bytes().to_vec(),
    )]);
    assert_eq!(
        order.check(&RawHeaders(with_request_id.collect())),
        mismatch
    );
}

#[test]
fn mercadopago_headers_and_timestamps() {
    for v in mercadopago_vectors() {
        let missing = Err(Rejection::MissingSignature);
        assert_eq!(v.check(&v.without_header(0)), missing);
        assert_eq!(v.check(&v.with_header(0, b"  ")), missing);
        let huge = format!("ts=1704908010,v1={}", "a".repeat(1 << 20));
        let commas = ",".repeat(10_000);
        for bad in [
            &b"this-is-garbage"[..],
            b"ts=1704908010",
            b"ts=1704908010,v2=aaaa",
            b"\xff\xfe\x00",
            huge.as_bytes(),
            commas.as_bytes(),
        ] {
            assert_eq!(
                v.check(&v.with_header(0, bad)),
                Err(Rejection::MalformedSignature),
                "{}",
                String::from_utf8_lossy(&bad[..bad.len().min(40)])
            );
        }
        let signature = std::str::from_utf8(v.headers().0[0].1.as_slice())
            .unwrap()
            .to_string();
        let (stamp, v1) = signature.split_once(',').unwrap();
        assert_eq!(
            v.check(&v.with_header(0, v1.as_bytes())),
            Err(Rejection::MissingTimestamp)
        );
        for bad_stamp in [
            "ts=-1",
            "ts=17049e8",
            "ts=",
            &format!("ts={}", "9".repeat(40)),
        ] {
            let value = format!("{bad_stamp},{v1}");
            assert_eq!(
                v.check(&v.with_header(0, value.as_bytes())),
                Err(Rejection::MalformedTimestamp),
                "{value}"
            );
        }
        let repeated = format!("{stamp},{stamp},{v1}");
        assert_eq!(
            v.check(&v.with_header(0, repeated.as_bytes())),
            Err(Rejection::MalformedTimestamp)
        );
        let at = |now: i64| v.check_with(&v.headers(), v.body, now, &[v.secret], None);
        let out = Err(Rejection::TimestampOutOfTolerance);
        assert_eq!(at(v.now + 300), Ok(()));
        assert_eq!(at(v.now - 300), Ok(()));
        assert_eq!(at(v.now + 301), out, "stale");
        assert_eq!(at(v.now - 301), out, "future");
    }
    assert_eq!(provider("mercadopago").default_tolerance_secs(), Some(300));
}

#[test]
fn mercadopago_sign_round_trips() {
    let mercadopago = provider("mercadopago");
    let url = "https://hooks.example.com/webhooks/mercadopago?data.id=ORD01ABC&type=order";
    let signed = mercadopago
        .sign(MP_BODY, MP_SECRET, url, 1_800_000_000)
        .unwrap();
    assert!(
        signed
            .header("x-signature")
            .unwrap()
            .starts_with("ts=1800000000000,v1=")
    );
    let request = test_request(&signed.headers, &signed.body, url, 1_800_000_010);
    let keys = [
        mercadopago.secret_key("another").unwrap(),
        mercadopago.secret_key(MP_SECRET).unwrap(),
    ];
    assert_eq!(mercadopago.verify(&request, &keys, None), Ok(1));
}
