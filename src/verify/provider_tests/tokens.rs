//! The `token` and `basic-auth` schemes and their providers. A token is compared as it is sent,
//! so a vector is the token itself; the basic-auth one is RFC 7617's own example. Bodies' SHA-256
//! ids are python3's `hashlib.sha256(body).hexdigest()`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{HeaderSource, Rejection, Request, SourceOptions, Vector, provider, test_request};

const TOKEN_BODY: &[u8] = br#"{"id":"evt_1","type":"build.finished"}"#;
/// Shaped after the change notification example of
/// https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks, two items.
const GRAPH_BODY: &[u8] = br##"{"value":[{"subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","subscriptionExpirationDateTime":"2016-03-19T22:11:09.952Z","clientState":"secretClientValue","changeType":"created","resource":"users/{user_guid}@{tenant_guid}/messages/{long_id_string}","tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95","resourceData":{"@odata.type":"#Microsoft.Graph.Message","@odata.id":"Users/{user_guid}@{tenant_guid}/Messages/{long_id_string}","id":"{long_id_string}"}},{"subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","clientState":"secretClientValue","changeType":"updated","resource":"users/{user_guid}@{tenant_guid}/messages/{other_id}","tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95"}]}"##;
/// Postmark's Delivery webhook example (postmarkapp.com/developer/webhooks/delivery-webhook).
const POSTMARK_BODY: &[u8] = br#"{"RecordType":"Delivery","ServerID":23,"MessageStream":"outbound","MessageID":"00000000-0000-0000-0000-000000000000","Recipient":"john@example.com","Tag":"welcome-email","DeliveredAt":"2019-11-05T16:33:54.9070259Z","Details":"Test delivery webhook details","Metadata":{"a_key":"a_value","b_key":"b_value"}}"#;

pub(super) fn vectors() -> Vec<Vector> {
    let vector = |provider, secret, body, headers, identity| Vector {
        provider,
        secret,
        url: "https://hooks.example.com/webhooks/tokens",
        body,
        now: 1_700_000_000,
        sig: 0,
        headers,
        identity,
    };
    vec![
        vector(
            "gitlab",
            "gitlab-secret-token",
            TOKEN_BODY,
            vec![
                ("X-Gitlab-Token", "gitlab-secret-token"),
                ("Idempotency-Key", "f7e6c1d4-1b8e-4d4f-9d3c-2a4d2f0b9e11"),
                ("X-Gitlab-Event", "Push Hook"),
            ],
            ("f7e6c1d4-1b8e-4d4f-9d3c-2a4d2f0b9e11", Some("Push Hook")),
        ),
        vector(
            "telegram",
            "telegram_secret-123",
            br#"{"update_id":10000,"message":{"message_id":1,"text":"/start"}}"#,
            vec![("X-Telegram-Bot-Api-Secret-Token", "telegram_secret-123")],
            ("10000", None),
        ),
        vector(
            "token",
            "generic-token",
            TOKEN_BODY,
            vec![("X-Webhook-Token", "generic-token")],
            (
                "89378c17b350de94d61cc9afd7ac5e81d16a4d45484452e6ab1c7b82828c98d4",
                None,
            ),
        ),
        vector(
            "ms-graph",
            "secretClientValue",
            GRAPH_BODY,
            Vec::new(),
            (
                "9af371a1f6e0a27ebd551dbb82b1b1a3e029b85cd41ccda3e1dc43f2c1c70ff4",
                Some("created"),
            ),
        ),
        vector(
            "postmark",
            "postmark-user:postmark-password",
            POSTMARK_BODY,
            // base64 of the secret: python3 base64.b64encode(b"postmark-user:postmark-password")
            vec![(
                "Authorization",
                "Basic cG9zdG1hcmstdXNlcjpwb3N0bWFyay1wYXNzd29yZA==",
            )],
            (
                "b4c06f7d68187bba76d14aece8c0dd7c411d3126aff464ed8280f8a9504794ec",
                Some("Delivery"),
            ),
        ),
        // RFC 7617 section 2: user "Aladdin", password "open sesame".
        vector(
            "basic-auth",
            "Aladdin:open sesame",
            br#"{"event":"ping"}"#,
            vec![("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
            (
                "2e7cda3ca871a2f6dadd2ace4a66385bdefba7d32c11f8846fb0b628f354f82c",
                None,
            ),
        ),
    ]
}

fn vector(name: &str) -> Vector {
    vectors().into_iter().find(|v| v.provider == name).unwrap()
}

fn run_with(
    v: &Vector,
    headers: &dyn HeaderSource,
    body: &[u8],
    url: &str,
    options: &SourceOptions,
    secrets: &[&str],
) -> Result<usize, Rejection> {
    let request = Request {
        headers,
        body,
        url,
        now_unix: v.now,
        options,
        certificate: None,
    };
    provider(v.provider).verify(&request, &v.keys(secrets), None)
}

fn run(
    v: &Vector,
    headers: &dyn HeaderSource,
    body: &[u8],
    secrets: &[&str],
) -> Result<usize, Rejection> {
    run_with(v, headers, body, v.url, SourceOptions::NONE, secrets)
}

#[test]
fn vectors_verify_identify_and_rotate() {
    for v in vectors() {
        let headers = v.headers();
        assert_eq!(
            run(&v, &headers, v.body, &[v.secret]),
            Ok(0),
            "{}",
            v.provider
        );
        assert_eq!(
            run(&v, &headers, v.body, &["old:secret", v.secret]),
            Ok(1),
            "{} second key",
            v.provider
        );
        let mismatch = Err(Rejection::TokenMismatch);
        assert_eq!(
            run(&v, &headers, v.body, &["other:secret"]),
            mismatch,
            "{}",
            v.provider
        );
        assert_eq!(
            run(&v, &headers, v.body, &[]),
            mismatch,
            "{} no key",
            v.provider
        );
        let request = test_request(&headers, v.body, v.url, v.now);
        let identity = provider(v.provider).identify(&request);
        assert_eq!(identity.event_id, v.identity.0, "{}", v.provider);
        assert_eq!(
            identity.event_type.as_deref(),
            v.identity.1,
            "{}",
            v.provider
        );
        assert_eq!(provider(v.provider).default_tolerance_secs(), None);
    }
}

#[test]
fn header_tokens_missing_wrong_and_near_misses() {
    for name in ["gitlab", "telegram", "token"] {
        let v = vector(name);
        let check = |headers: &dyn HeaderSource| run(&v, headers, v.body, &[v.secret]);
        assert_eq!(
            check(&v.without_header(0)),
            Err(Rejection::MissingSignature),
            "{name}"
        );
        assert_eq!(
            check(&v.with_header(0, b"   ")),
            Err(Rejection::MissingSignature),
            "{name}"
        );
        let longer = format!("{}x", v.secret);
        let huge = "t".repeat(1 << 20);
        for bad in [
            &v.secret.as_bytes()[1..],
            longer.as_bytes(),
            b"\xff\x00",
            huge.as_bytes(),
        ] {
            assert_eq!(
                check(&v.with_header(0, bad)),
                Err(Rejection::TokenMismatch),
                "{name}"
            );
        }
        // Surrounding blanks are not part of a header value.
        let padded = format!("  {}\t", v.secret);
        assert_eq!(check(&v.with_header(0, padded.as_bytes())), Ok(0), "{name}");
        // The body is not signed: a token proves who sent it, not what.
        assert_eq!(
            run(&v, &v.headers(), b"anything", &[v.secret]),
            Ok(0),
            "{name}"
        );
    }
}

fn options(header: Option<&str>, query: Option<&str>) -> SourceOptions {
    SourceOptions {
        token_header: header.map(str::to_string),
        token_query: query.map(str::to_string),
        ..SourceOptions::default()
    }
}

#[test]
fn the_generic_token_moves_to_another_header_or_the_query() {
    let v = vector("token");
    let authorization = options(Some("Authorization"), None);
    let bearer = |value: &str| vec![("Authorization".to_string(), value.to_string())];
    let at = |headers: &Vec<(String, String)>, url: &str, options: &SourceOptions| {
        run_with(&v, headers, v.body, url, options, &[v.secret])
    };
    for accepted in [
        "Bearer generic-token",
        "bearer  generic-token",
        "generic-token",
    ] {
        assert_eq!(
            at(&bearer(accepted), v.url, &authorization),
            Ok(0),
            "{accepted}"
        );
    }
    for refused in ["Bearer other", "Basic generic-token", "Bearer"] {
        assert_eq!(
            at(&bearer(refused), v.url, &authorization),
            Err(Rejection::TokenMismatch),
            "{refused}"
        );
    }
    // Once moved, the default header is not read.
    let default_header = vec![("X-Webhook-Token".to_string(), v.secret.to_string())];
    assert_eq!(
        at(&default_header, v.url, &authorization),
        Err(Rejection::MissingSignature)
    );

    let query = options(None, Some("key"));
    let none = Vec::new();
    let url = "https://hooks.example.com/webhooks/token?a=1&key=generic%2Dtoken#frag";
    assert_eq!(at(&none, url, &query), Ok(0));
    assert_eq!(at(&none, "https://h/?key=generic-token", &query), Ok(0));
    assert_eq!(
        at(&none, "https://h/?key=wrong", &query),
        Err(Rejection::TokenMismatch)
    );
    assert_eq!(
        at(&none, "https://h/?other=generic-token", &query),
        Err(Rejection::MissingSignature)
    );
    assert_eq!(
        at(&none, "https://h/?key=", &query),
        Err(Rejection::MissingSignature)
    );
    assert_eq!(
        at(&default_header, "https://h/", &query),
        Err(Rejection::MissingSignature)
    );
}

#[test]
fn only_the_generic_token_takes_token_header_and_token_query() {
    let token = provider("token");
    assert_eq!(
        token.check_options(&options(Some("Authorization"), None)),
        Ok(())
    );
    assert_eq!(token.check_options(&options(None, Some("key"))), Ok(()));
    let both = token
        .check_options(&options(Some("X-T"), Some("key")))
        .unwrap_err();
    assert_eq!(both.0, "token_query");
    assert_eq!(
        token
            .check_options(&options(Some(" "), None))
            .unwrap_err()
            .0,
        "token_header"
    );
    assert_eq!(
        token.check_options(&options(None, Some(""))).unwrap_err().0,
        "token_query"
    );
    for name in [
        "gitlab",
        "telegram",
        "ms-graph",
        "postmark",
        "basic-auth",
        "discord",
        "stripe",
    ] {
        let refused = provider(name).check_options(&options(Some("X-T"), None));
        let expected = format!("not used by provider `{name}`");
        assert_eq!(refused, Err(("token_header", expected)), "{name}");
    }
}

#[test]
fn graph_needs_the_client_state_in_every_notification() {
    let v = vector("ms-graph");
    let headers = v.headers();
    let check = |body: &str| run(&v, &headers, body.as_bytes(), &[v.secret]);
    let item = |state: &str| format!(r#"{{"changeType":"created","clientState":{state}}}"#);
    let batch = |items: &[String]| format!(r#"{{"value":[{}]}}"#, items.join(","));
    let good = item("\"secretClientValue\"");
    assert_eq!(check(&batch(std::slice::from_ref(&good))), Ok(0));
    let wrong = item("\"other\"");
    let cases = [
        (
            batch(&[good.clone(), wrong.clone()]),
            Rejection::TokenMismatch,
        ),
        (batch(&[wrong]), Rejection::TokenMismatch),
        (
            batch(&[good.clone(), r#"{"changeType":"created"}"#.to_string()]),
            Rejection::MissingSignature,
        ),
        (batch(&[]), Rejection::MissingSignature),
        (
            r#"{"value":{"clientState":"secretClientValue"}}"#.to_string(),
            Rejection::MissingSignature,
        ),
        (r#"{}"#.to_string(), Rejection::MissingSignature),
        (
            batch(&[good.clone(), item("42")]),
            Rejection::MalformedSignature,
        ),
        (batch(&[item("\"\"")]), Rejection::MissingSignature),
        ("not json".to_string(), Rejection::MalformedSignature),
        (
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
            Rejection::MalformedSignature,
        ),
        (
            format!(r#"{{"value":[{}]}}"#, "{\"a\":".repeat(5_000)),
            Rejection::MalformedSignature,
        ),
    ];
    for (body, expected) in cases {
        let shown = &body[..body.len().min(60)];
        assert_eq!(check(&body), Err(expected), "{shown}");
    }
}

#[test]
fn basic_auth_refuses_anything_but_matching_basic_credentials() {
    for name in ["postmark", "basic-auth"] {
        let v = vector(name);
        let check = |headers: &dyn HeaderSource| run(&v, headers, v.body, &[v.secret]);
        let basic = |credentials: &[u8]| format!("Basic {}", STANDARD.encode(credentials));
        let (user, password) = v.secret.split_once(':').unwrap();
        let lower = v.headers[0].1.replacen("Basic", "basic", 1);
        assert_eq!(check(&v.with_header(0, lower.as_bytes())), Ok(0), "{name}");
        for wrong in [
            format!("{user}:wrong"),
            format!("other:{password}"),
            format!("{user}:{password} "),
            format!("{user}:"),
            ":".to_string(),
        ] {
            let value = basic(wrong.as_bytes());
            assert_eq!(
                check(&v.with_header(0, value.as_bytes())),
                Err(Rejection::TokenMismatch),
                "{name} {wrong}"
            );
        }
        let huge = basic(&vec![b':'; 1 << 20]);
        let no_colon = basic(b"Aladdin");
        let malformed = [
            format!("Bearer {}", STANDARD.encode(v.secret)),
            "Basic !!!!".to_string(),
            "Basic".to_string(),
            "Basic ".to_string(),
            no_colon,
            huge,
            v.secret.to_string(),
        ];
        for value in malformed {
            let shown = &value[..value.len().min(40)];
            assert_eq!(
                check(&v.with_header(0, value.as_bytes())),
                Err(Rejection::MalformedSignature),
                "{name} {shown}"
            );
        }
        assert_eq!(
            check(&v.without_header(0)),
            Err(Rejection::MissingSignature)
        );
        let error = provider(name)
            .secret_key("no-colon")
            .unwrap_err()
            .to_string();
        assert!(error.ends_with("secret: expected user:password"), "{error}");
    }
}

#[test]
fn sign_round_trips_and_names_what_it_cannot_sign() {
    for v in vectors() {
        let provider = provider(v.provider);
        let signed = provider.sign(v.body, v.secret, v.url, v.now).unwrap();
        let request = test_request(&signed.headers, &signed.body, &signed.url, v.now);
        let keys = v.keys(&["old:secret", v.secret]);
        assert_eq!(
            provider.verify(&request, &keys, None),
            Ok(1),
            "{}",
            v.provider
        );
    }
    let postmark = vector("postmark");
    let signed = provider("postmark")
        .sign(b"{}", postmark.secret, "https://h/", 0)
        .unwrap();
    assert_eq!(signed.header("Authorization"), Some(postmark.headers[0].1));
    // Graph's token goes into every notification of the batch.
    let graph = provider("ms-graph");
    let signed = graph
        .sign(br#"{"value":[{"a":1},{"b":2}]}"#, "s3cret", "https://h/", 0)
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"value":[{"a":1,"clientState":"s3cret"},{"b":2,"clientState":"s3cret"}]})
    );
    for body in [&b"not json"[..], br#"{"value":[]}"#, br#"{"other":1}"#] {
        assert!(graph.sign(body, "s3cret", "https://h/", 0).is_err());
    }
    assert!(
        provider("basic-auth")
            .sign(b"{}", "no-colon", "https://h/", 0)
            .is_err()
    );
}

#[test]
fn token_file_errors_name_the_key() {
    let header = "scheme = \"token\"\n[signature]\nheader = \"X-T\"\n";
    let cases = [
        ("scheme = \"token\"\n[signature]\n".to_string(), "set exactly one of `header` or `pointer`"),
        (format!("{header}pointer = \"/a\"\n"), "set exactly one of `header` or `pointer`"),
        ("scheme = \"token\"\n[signature]\npointer = \"a\"\n".to_string(), "key `signature.pointer`: must start with `/`"),
        ("scheme = \"token\"\n[signature]\npointer = \"/a\"\nconfigurable = true\n".to_string(), "key `signature.configurable`"),
        (format!("{header}encoding = \"hex\"\n"), "key `signature.encoding`: not used by scheme = \"token\""),
        (header.replace("[signature]", "signed = \"{body}\"\n[signature]"), "key `signed`: not used"),
        (header.replace("[signature]", "[secret]\nencoding = \"base64\"\n[signature]"), "key `secret.encoding`"),
        (format!("{header}ecdsa_format = \"der\"\n"), "key `signature.ecdsa_format`"),
        ("scheme = \"basic-auth\"\n[signature]\nheader = \"Authorization\"\nconfigurable = true\n".to_string(), "key `signature.configurable`: not used by scheme = \"basic-auth\""),
        ("scheme = \"basic-auth\"\n[signature]\n".to_string(), "key `signature.header`: required"),
    ];
    for (text, expected) in cases {
        let error = super::Provider::parse("custom", &text)
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
}
