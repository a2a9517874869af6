//! The public-key, token and basic-auth providers through the real HTTP route. Keys are made
//! here (rcgen) and requests signed with ring directly, laid out as each provider documents;
//! tokens and `Basic` credentials are written by the test. Nothing is signed by
//! `hookgate::verify`.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hookgate::app::{Application, ServeOptions};
use hookgate::config::Config;
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ED25519, PublicKeyData};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use std::path::Path;
use std::rc::Rc;

/// A provider's key pairs: the current one, the previous one (rotation) and one not configured.
struct Keys {
    current: KeyPair,
    previous: KeyPair,
    unknown: KeyPair,
}

impl Keys {
    fn new(algorithm: &'static rcgen::SignatureAlgorithm) -> Keys {
        let pair = || KeyPair::generate_for(algorithm).expect("key pair");
        Keys {
            current: pair(),
            previous: pair(),
            unknown: pair(),
        }
    }
}

fn ed25519_sign(pair: &KeyPair, message: &[u8]) -> Vec<u8> {
    let signer = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pair.serialize_der()).unwrap();
    signer.sign(message).as_ref().to_vec()
}

fn p256_sign(pair: &KeyPair, message: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    let der = pair.serialize_der();
    let signer = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der, &rng).unwrap();
    signer.sign(&rng, message).unwrap().as_ref().to_vec()
}

/// One signing provider as its documentation describes it.
struct Signer {
    source: &'static str,
    signature_header: &'static str,
    timestamp_header: &'static str,
    /// What is signed, from (timestamp, body).
    signed: fn(&str, &str) -> String,
    /// The signature as the header carries it.
    sign: fn(&KeyPair, &[u8]) -> String,
    keys: Keys,
    /// The public key as the source's secret.
    secret: fn(&KeyPair) -> String,
    /// What hookgate answers a valid request.
    accepted: u16,
}

impl Signer {
    fn headers(&self, pair: &KeyPair, body: &str, t: i64) -> Vec<(String, String)> {
        let t = t.to_string();
        let signature = (self.sign)(pair, (self.signed)(&t, body).as_bytes());
        headers(&[
            ("Content-Type", "application/json"),
            (self.signature_header, &signature),
            (self.timestamp_header, &t),
        ])
    }
}

fn signers() -> Vec<Signer> {
    vec![
        Signer {
            source: "discord",
            signature_header: "X-Signature-Ed25519",
            timestamp_header: "X-Signature-Timestamp",
            signed: |t, body| format!("{t}{body}"),
            sign: |pair, message| hex::encode(ed25519_sign(pair, message)),
            keys: Keys::new(&PKCS_ED25519),
            secret: |pair| hex::encode(pair.public_key_raw()),
            // Discord requires 204 for events (the file's [response]).
            accepted: 204,
        },
        Signer {
            source: "telnyx",
            signature_header: "telnyx-signature-ed25519",
            timestamp_header: "telnyx-timestamp",
            signed: |t, body| format!("{t}|{body}"),
            sign: |pair, message| STANDARD.encode(ed25519_sign(pair, message)),
            keys: Keys::new(&PKCS_ED25519),
            secret: |pair| STANDARD.encode(pair.public_key_raw()),
            accepted: 202,
        },
        Signer {
            source: "sendgrid",
            signature_header: "X-Twilio-Email-Event-Webhook-Signature",
            timestamp_header: "X-Twilio-Email-Event-Webhook-Timestamp",
            signed: |t, body| format!("{t}{body}"),
            sign: |pair, message| STANDARD.encode(p256_sign(pair, message)),
            keys: Keys::new(&PKCS_ECDSA_P256_SHA256),
            secret: |pair| STANDARD.encode(pair.subject_public_key_info()),
            accepted: 202,
        },
    ]
}

fn source(id: &str, provider: &str, secrets: &[String], extra: &str) -> String {
    let secrets: Vec<String> = secrets.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "\n[[sources]]\nid = \"{id}\"\nprovider = \"{provider}\"\nsecrets = [{}]\ndestinations = [\"billing\"]\n{extra}",
        secrets.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_key_providers_verify_as_documented() {
    let signers = signers();
    let config: String = signers
        .iter()
        .map(|s| {
            let secrets = [(s.secret)(&s.keys.current), (s.secret)(&s.keys.previous)];
            source(s.source, s.source, &secrets, "")
        })
        .collect();
    let app = spawn_app_with(TestOptions {
        extra_config: config,
        ..Default::default()
    })
    .await;
    for s in &signers {
        let name = s.source;
        let body = unique_body();
        let valid = s.headers(&s.keys.current, &body, now());
        let without: Vec<_> = valid
            .iter()
            .filter(|(header, _)| header != s.signature_header)
            .cloned()
            .collect();
        let late = now() - 310;
        let refused = [
            ("tampered body", valid.clone(), format!("{body} ")),
            (
                "unknown key",
                s.headers(&s.keys.unknown, &body, now()),
                body.clone(),
            ),
            ("missing signature", without, body.clone()),
            (
                "stale timestamp",
                s.headers(&s.keys.current, &body, late),
                body.clone(),
            ),
            (
                "future timestamp",
                s.headers(&s.keys.current, &body, now() + 310),
                body.clone(),
            ),
        ];
        for (what, headers, sent) in refused {
            let response = app.post(name, &headers, sent).await;
            assert_eq!(response.status(), 401, "{name}: {what}");
        }
        let response = app.post(name, &valid, body.clone()).await;
        assert_eq!(response.status(), s.accepted, "{name}: valid");
        let rotated = unique_body();
        let headers = s.headers(&s.keys.previous, &rotated, now());
        let response = app.post(name, &headers, rotated).await;
        assert_eq!(response.status(), s.accepted, "{name}: the previous key");
        let stored = format!("SELECT count(*) FROM events WHERE source_id = '{name}'");
        assert_eq!(app.count(&stored).await, 2, "{name}: both events stored");
    }
    // Discord's PING is answered 204 by hookgate itself and never stored.
    let discord = signers.iter().find(|s| s.source == "discord").unwrap();
    let ping = r#"{"version":1,"application_id":"1","type":0}"#;
    let headers = discord.headers(&discord.keys.current, ping, now());
    let response = app.post("discord", &headers, ping).await;
    assert_eq!(response.status(), 204, "the PING");
    let forged = discord.headers(&discord.keys.unknown, ping, now());
    assert_eq!(app.post("discord", &forged, ping).await.status(), 401);
    let stored = "SELECT count(*) FROM events WHERE source_id = 'discord'";
    assert_eq!(app.count(stored).await, 2, "the PING is not stored");
    app.stop().await;
}

fn basic(credentials: &str) -> String {
    format!("Basic {}", STANDARD.encode(credentials))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_and_basic_auth_providers_verify_as_documented() {
    let two = |current: &str, previous: &str| [current.to_string(), previous.to_string()];
    let config = [
        source("gitlab", "gitlab", &two("gl-token", "gl-old"), ""),
        source("telegram", "telegram", &two("tg_token", "tg_old"), ""),
        source("token", "token", &two("generic", "generic-old"), ""),
        source(
            "token-bearer",
            "token",
            &two("bearer-tok", "bearer-old"),
            "token_header = \"Authorization\"\n",
        ),
        source(
            "token-query",
            "token",
            &two("query-tok", "query-old"),
            "token_query = \"key\"\n",
        ),
        source("postmark", "postmark", &two("pm:pass", "pm:old-pass"), ""),
        source(
            "basic-auth",
            "basic-auth",
            &two("Aladdin:open sesame", "Aladdin:old"),
            "",
        ),
        source("ms-graph", "ms-graph", &two("graph-state", "graph-old"), ""),
    ]
    .concat();
    let app = spawn_app_with(TestOptions {
        extra_config: config,
        ..Default::default()
    })
    .await;
    let json = ("Content-Type", "application/json");
    // (source, header, how the current / previous / a wrong secret is sent)
    let header_cases: [(&str, &str, [String; 3]); 6] = [
        (
            "gitlab",
            "X-Gitlab-Token",
            ["gl-token".into(), "gl-old".into(), "gl-wrong".into()],
        ),
        (
            "telegram",
            "X-Telegram-Bot-Api-Secret-Token",
            ["tg_token".into(), "tg_old".into(), "tg_x".into()],
        ),
        (
            "token",
            "X-Webhook-Token",
            ["generic".into(), "generic-old".into(), "generic-x".into()],
        ),
        (
            "token-bearer",
            "Authorization",
            [
                "Bearer bearer-tok".into(),
                "bearer-old".into(),
                "Bearer x".into(),
            ],
        ),
        (
            "postmark",
            "Authorization",
            [basic("pm:pass"), basic("pm:old-pass"), basic("pm:wrong")],
        ),
        (
            "basic-auth",
            "Authorization",
            [
                basic("Aladdin:open sesame"),
                basic("Aladdin:old"),
                basic("Aladin:open sesame"),
            ],
        ),
    ];
    for (name, header, [current, previous, wrong]) in header_cases {
        let post = |value: Option<&str>, body: String| {
            let mut sent = headers(&[json]);
            if let Some(value) = value {
                sent.push((header.to_string(), value.to_string()));
            }
            let app = &app;
            async move { app.post(name, &sent, body).await.status() }
        };
        assert_eq!(
            post(Some(&wrong), unique_body()).await,
            401,
            "{name}: wrong"
        );
        assert_eq!(post(None, unique_body()).await, 401, "{name}: missing");
        assert_eq!(
            post(Some(&current), unique_body()).await,
            202,
            "{name}: valid"
        );
        assert_eq!(
            post(Some(&previous), unique_body()).await,
            202,
            "{name}: previous"
        );
    }
    let query = |value: &str| format!("{}?key={value}", app.webhook_url("token-query"));
    for (value, expected) in [("query-tok", 202), ("query-old", 202), ("wrong", 401)] {
        let response = app
            .http
            .post(query(value))
            .body(unique_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "token_query {value}");
    }
    let response = app
        .post(
            "token-query",
            &headers(&[json, ("X-Webhook-Token", "query-tok")]),
            unique_body(),
        )
        .await;
    assert_eq!(response.status(), 401, "token_query reads only the query");

    let graph = |states: &[&str]| {
        let items: Vec<_> = states
            .iter()
            .map(|state| serde_json::json!({"changeType": "created", "clientState": state, "resource": uuid::Uuid::now_v7().to_string()}))
            .collect();
        serde_json::json!({ "value": items }).to_string()
    };
    for (states, expected) in [
        (&["graph-state", "graph-state"][..], 202),
        (&["graph-old"][..], 202),
        (&["graph-state", "wrong"][..], 401),
        (&[][..], 401),
    ] {
        let response = app.post("ms-graph", &headers(&[json]), graph(states)).await;
        assert_eq!(response.status(), expected, "ms-graph {states:?}");
    }
    // Graph validates a subscription with an unsigned POST ?validationToken=…, echoed as text.
    let validation = app
        .http
        .post(format!(
            "{}?validationToken=Validation%3A%20Testing%20client%20application%20reachability",
            app.webhook_url("ms-graph")
        ))
        .header("Content-Type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(validation.status(), 200);
    assert_eq!(
        validation.text().await.unwrap(),
        "Validation: Testing client application reachability"
    );
    // The Authorization header is never stored.
    let postmark = app
        .count("SELECT count(*) FROM events WHERE source_id = 'postmark'")
        .await;
    assert_eq!(postmark, 2);
    let stored = app
        .count("SELECT count(*) FROM events WHERE source_id = 'postmark' AND headers::text ILIKE '%authorization%'")
        .await;
    assert_eq!(stored, 0);
    app.stop().await;
}

#[tokio::test]
async fn token_header_on_another_provider_stops_startup() {
    let extra = source(
        "gitlab",
        "gitlab",
        &["t".to_string()],
        "token_header = \"X-Other\"\n",
    );
    let text = config_text(
        "postgres://postgres@127.0.0.1:5432/unused",
        &Dest::default(),
        &Dest::default(),
        &extra,
    );
    let config = Config::parse(Path::new("test.toml"), &text, Rc::new(|_| None)).unwrap();
    let started = Application::build(config, Path::new("test.toml"), ServeOptions::default());
    let Err(err) = started.await else {
        panic!("started with token_header on gitlab");
    };
    let message = format!("{err:#}");
    assert!(message.contains("token_header"), "{message}");
    assert!(
        message.contains("not used by provider `gitlab`"),
        "{message}"
    );
}
