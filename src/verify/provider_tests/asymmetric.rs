//! The public-key schemes (`ed25519`, `ecdsa-p256`) and their providers: RFC 8032's test
//! vectors, SendGrid's own SDK fixture, and Discord-, Telnyx- and SendGrid-shaped requests
//! signed by python3's `cryptography` package (never by this crate). The script that computed
//! them (run once, its output pasted here):
//!
//! ```python
//! import base64, hashlib
//! from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
//! from cryptography.hazmat.primitives.asymmetric import ec
//! from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
//! from cryptography.hazmat.primitives import hashes, serialization as s
//! ed = lambda label: Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label).digest())
//! d = ed(b"hookgate discord test key")   # public key .hex(), d.sign(b"1700000000" + DISCORD_BODY)
//! t = ed(b"hookgate telnyx test key")    # public key base64, t.sign(b"1700000000|" + TELNYX_BODY)
//! e = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"hookgate p256 test key").digest(),
//!                           "big"), ec.SECP256R1())
//! der = e.sign(b"1700000000" + P256_BODY, ec.ECDSA(hashes.SHA256()))
//! r, s_ = decode_dss_signature(der); raw = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
//! # keys: PublicFormat.SubjectPublicKeyInfo (DER) and .UncompressedPoint (X962), base64;
//! # private keys: PrivateFormat.PKCS8 PEM
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{HeaderSource, Provider, Rejection, SigningInput, Vector, provider, test_request};

pub(super) const NOW: i64 = 1_700_000_000;

pub(super) const DISCORD_BODY: &[u8] = br#"{"version":1,"application_id":"1234560123453231555","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{"integration_type":0,"scopes":["applications.commands"]}}}"#;
pub(super) const DISCORD_KEY: &str =
    "3cc3a37cf9609610cd8737c612f754645d5c278ffa22b232a9fdf7518257e7eb";
const DISCORD_SIGNATURE: &str = "bb023095eb2e60e777461a8339bffedb9acbf78ac20b90478688fe1ad61d44bab333fac9ada5073ce0112084247ddfeeee5ccffc6d784002a649e0be224bb50d";
/// The private key of `DISCORD_KEY`: PKCS#8 v1, as OpenSSL and `cryptography` write it.
const DISCORD_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIGPMmNBimc5VJaGiuZ5XTVfUS/sw8jz8b00PXdAUdqrq
-----END PRIVATE KEY-----
";

const TELNYX_BODY: &[u8] = br#"{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4","occurred_at":"2023-11-14T22:13:20.000+00:00","payload":{"text":"hello"},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://hooks.example.com/webhooks/telnyx"}}"#;
const TELNYX_KEY: &str = "hNZs8lhATEQwmV7W1HCqmojOcdM3KTFPFk8V5edYdXw=";
const TELNYX_SIGNATURE: &str =
    "nHZQsxjDgedtWaBGFExYDUDCJ3eGgz4InwxKXwQBUSwlY1TaA7eYLr3/em+vKTeEkiLx4inzUTVDwo//DW7MCQ==";

const P256_BODY: &[u8] =
    br#"[{"email":"a@example.com","event":"delivered","sg_event_id":"ev1","timestamp":1700000000}]"#;
const P256_SPKI: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEe59OI7ueNXJ/RkKMJpseZjqEGqT3djlD5zMtswekUKCf/ID89VComelB8mZ2yMjQS8IHx4xSV/UVTP00M/m9Ww==";
const P256_POINT: &str =
    "BHufTiO7njVyf0ZCjCabHmY6hBqk93Y5Q+czLbMHpFCgn/yA/PVQqJnpQfJmdsjI0EvCB8eMUlf1FUz9NDP5vVs=";
const P256_DER: &str = "MEQCICHTXRg4h9z8zYKYK+L3IeWYWt8Dam6JAK93lxN2Y09qAiARw46Z+fJ+7DBMiQyH5xoRVJrrRReQBzrt82wvnmkdDw==";
const P256_RAW: &str =
    "IdNdGDiH3PzNgpgr4vch5Zha3wNqbokAr3eXE3ZjT2oRw46Z+fJ+7DBMiQyH5xoRVJrrRReQBzrt82wvnmkdDw==";
const P256_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCcU4cUbtrmjAg0gj
qZbwXdp+dT3ljBUF0eFJd8PzHH+hRANCAAR7n04ju541cn9GQowmmx5mOoQapPd2
OUPnMy2zB6RQoJ/8gPz1UKiZ6UHyZnbIyNBLwgfHjFJX9RVM/TQz+b1b
-----END PRIVATE KEY-----
";

/// sendgrid-python's `test/unit/test_eventwebhook.py` (github.com/sendgrid/sendgrid-python):
/// PUBLIC_KEY, SIGNATURE, TIMESTAMP and PAYLOAD (json.dumps with sort_keys and compact
/// separators, plus the trailing CRLF), and the key its `test_verify_bad_key` uses.
const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
const SENDGRID_BAD_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
const SENDGRID_BODY: &[u8] = b"[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";

/// One vector per provider of these schemes, with a valid key of the same kind that is not
/// the signer's (for wrong-key and rotation checks).
pub(super) fn vectors() -> Vec<(Vector, &'static str)> {
    let vector = |provider, secret, body, now, headers| Vector {
        provider,
        secret,
        url: "https://hooks.example.com/webhooks/asymmetric",
        body,
        now,
        sig: 0,
        headers,
        identity: ("", None),
    };
    vec![
        // The body's SHA-256: python3 hashlib.sha256(DISCORD_BODY).hexdigest(), likewise for
        // SendGrid's.
        (
            Vector {
                identity: (
                    "53632a1a80ffaa0556fd02c1ea089125db1a9a14d6e799c7bdf8702f6899c1d1",
                    Some("APPLICATION_AUTHORIZED"),
                ),
                ..vector(
                    "discord",
                    DISCORD_KEY,
                    DISCORD_BODY,
                    NOW,
                    vec![
                        ("X-Signature-Ed25519", DISCORD_SIGNATURE),
                        ("X-Signature-Timestamp", "1700000000"),
                    ],
                )
            },
            // Telnyx's key, written in hex (python3: base64.b64decode(TELNYX_KEY).hex()).
            "84d66cf258404c4430995ed6d470aa9a88ce71d33729314f164f15e5e758757c",
        ),
        (
            Vector {
                identity: (
                    "b301ed3f-1490-491f-995f-6e64e69674d4",
                    Some("message.received"),
                ),
                ..vector(
                    "telnyx",
                    TELNYX_KEY,
                    TELNYX_BODY,
                    NOW,
                    vec![
                        ("telnyx-signature-ed25519", TELNYX_SIGNATURE),
                        ("telnyx-timestamp", "1700000000"),
                    ],
                )
            },
            // Discord's key, written in base64.
            "PMOjfPlglhDNhzfGEvdUZF1cJ4/6IrIyqf33UYJX5+s=",
        ),
        (
            Vector {
                identity: (
                    "ef3e4606385ea6adbc55fceb6117cf2784040cf145a010e5ef4afc2bc7c70452",
                    None,
                ),
                ..vector(
                    "sendgrid",
                    SENDGRID_KEY,
                    SENDGRID_BODY,
                    1_600_112_502,
                    vec![
                        (
                            "X-Twilio-Email-Event-Webhook-Signature",
                            "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=",
                        ),
                        ("X-Twilio-Email-Event-Webhook-Timestamp", "1600112502"),
                    ],
                )
            },
            SENDGRID_BAD_KEY,
        ),
    ]
}

fn run(
    v: &Vector,
    headers: &dyn HeaderSource,
    body: &[u8],
    now: i64,
    secrets: &[&str],
) -> Result<usize, Rejection> {
    let request = test_request(headers, body, v.url, now);
    provider(v.provider).verify(&request, &v.keys(secrets), None)
}

#[test]
fn published_and_computed_vectors_verify_and_identify() {
    for (v, _) in vectors() {
        assert_eq!(
            run(&v, &v.headers(), v.body, v.now, &[v.secret]),
            Ok(0),
            "{}",
            v.provider
        );
        let headers = v.headers();
        let request = test_request(&headers, v.body, v.url, v.now);
        let identity = provider(v.provider).identify(&request);
        assert_eq!(identity.event_id, v.identity.0, "{}", v.provider);
        assert_eq!(
            identity.event_type.as_deref(),
            v.identity.1,
            "{}",
            v.provider
        );
        assert_eq!(
            provider(v.provider).signing_input(),
            SigningInput::PrivateKey
        );
    }
}

#[test]
fn tampering_wrong_keys_and_rotation() {
    let mismatch = Err(Rejection::SignatureMismatch);
    for (v, other) in vectors() {
        let headers = v.headers();
        let mut tampered = v.body.to_vec();
        tampered.push(b' ');
        assert_eq!(
            run(&v, &headers, &tampered, v.now, &[v.secret]),
            mismatch,
            "{}",
            v.provider
        );
        assert_eq!(
            run(&v, &headers, v.body, v.now, &[other]),
            mismatch,
            "{} other key",
            v.provider
        );
        assert_eq!(
            run(&v, &headers, v.body, v.now, &[]),
            mismatch,
            "{} no key",
            v.provider
        );
        let rotated = run(&v, &headers, v.body, v.now, &[other, v.secret]);
        assert_eq!(rotated, Ok(1), "{} second key", v.provider);
        // A changed signature is refused.
        let sent = v.headers[0].1;
        let flipped = if sent.starts_with('a') {
            sent.replacen('a', "b", 1)
        } else {
            format!("a{}", &sent[1..])
        };
        let result = run(
            &v,
            &v.with_header(0, flipped.as_bytes()),
            v.body,
            v.now,
            &[v.secret],
        );
        assert!(result.is_err(), "{} flipped signature", v.provider);
    }
}

#[test]
fn missing_malformed_and_huge_signature_headers() {
    let huge = "a".repeat(1 << 20);
    for (v, _) in vectors() {
        let check = |headers: &dyn HeaderSource| run(&v, headers, v.body, v.now, &[v.secret]);
        assert_eq!(
            check(&v.without_header(0)),
            Err(Rejection::MissingSignature),
            "{}",
            v.provider
        );
        assert_eq!(
            check(&v.with_header(0, b"  ")),
            Err(Rejection::MissingSignature)
        );
        // 63 bytes, hex and base64: the wrong length for either algorithm's signature.
        let short_hex = "ab".repeat(63);
        let short_b64 = "q".repeat(84);
        for bad in [
            &b"!!!not a signature!!!"[..],
            b"\xff\xfe\x00",
            short_hex.as_bytes(),
            short_b64.as_bytes(),
            huge.as_bytes(),
        ] {
            let shown = String::from_utf8_lossy(&bad[..bad.len().min(40)]).into_owned();
            assert_eq!(
                check(&v.with_header(0, bad)),
                Err(Rejection::MalformedSignature),
                "{} {shown}",
                v.provider
            );
        }
    }
}

#[test]
fn stale_future_missing_and_malformed_timestamps() {
    for (v, _) in vectors() {
        let tolerance = provider(v.provider).default_tolerance_secs().unwrap() as i64;
        let at = |now| run(&v, &v.headers(), v.body, now, &[v.secret]);
        assert_eq!(at(v.now + tolerance), Ok(0), "{}", v.provider);
        assert_eq!(at(v.now - tolerance), Ok(0), "{}", v.provider);
        let out = Err(Rejection::TimestampOutOfTolerance);
        assert_eq!(at(v.now + tolerance + 1), out, "{} stale", v.provider);
        assert_eq!(at(v.now - tolerance - 1), out, "{} future", v.provider);
        let check = |headers: &dyn HeaderSource| run(&v, headers, v.body, v.now, &[v.secret]);
        assert_eq!(
            check(&v.without_header(1)),
            Err(Rejection::MissingTimestamp)
        );
        for bad in [
            &b"abc"[..],
            b"",
            b"-1700000000",
            b"\xff",
            "9".repeat(40).as_bytes(),
        ] {
            assert_eq!(
                check(&v.with_header(1, bad)),
                Err(Rejection::MalformedTimestamp),
                "{bad:?}"
            );
        }
        // A timestamp other than the signed one, within the tolerance, breaks the signature.
        let other = (v.now + 1).to_string();
        assert_eq!(
            check(&v.with_header(1, other.as_bytes())),
            Err(Rejection::SignatureMismatch)
        );
    }
}

#[test]
fn truncated_der_signatures_are_refused_without_panicking() {
    let (v, _) = vectors().pop().unwrap();
    let der = STANDARD.decode(v.headers[0].1).unwrap();
    for len in 0..der.len() {
        let cut = STANDARD.encode(&der[..len]);
        let result = run(
            &v,
            &v.with_header(0, cut.as_bytes()),
            v.body,
            v.now,
            &[v.secret],
        );
        assert!(
            matches!(
                result,
                Err(Rejection::MalformedSignature
                    | Rejection::SignatureMismatch
                    | Rejection::MissingSignature)
            ),
            "{len}: {result:?}"
        );
    }
}

fn custom(text: &str) -> Provider {
    Provider::parse("custom", text).unwrap()
}

fn verify_custom(
    provider: &Provider,
    key: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<usize, Rejection> {
    let headers = vec![
        ("X-Sig".to_string(), signature.to_string()),
        ("X-Time".to_string(), now.to_string()),
    ];
    let request = test_request(&headers, body, "https://hooks.example.com/", now);
    provider.verify(&request, &[provider.secret_key(key).unwrap()], None)
}

const ED25519_BODY_ONLY: &str = "scheme = \"ed25519\"\nsigned = \"{body}\"\n[secret]\nencoding = \"hex\"\n[signature]\nheader = \"X-Sig\"\nencoding = \"hex\"\n";

#[test]
fn rfc_8032_test_vectors() {
    // RFC 8032 section 7.1, TEST 1 to TEST 3: public key, message, signature.
    // https://www.rfc-editor.org/rfc/rfc8032#section-7.1
    let vectors = [
        (
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];
    let provider = custom(ED25519_BODY_ONLY);
    for (index, (key, message, signature)) in vectors.iter().enumerate() {
        let message = hex::decode(message).unwrap();
        assert_eq!(
            verify_custom(&provider, key, signature, &message, NOW),
            Ok(0),
            "TEST {}",
            index + 1
        );
        let mut longer = message.clone();
        longer.push(0);
        let tampered = verify_custom(&provider, key, signature, &longer, NOW);
        assert_eq!(
            tampered,
            Err(Rejection::SignatureMismatch),
            "TEST {}",
            index + 1
        );
        let (other_key, _, _) = vectors[(index + 1) % vectors.len()];
        let wrong = verify_custom(&provider, other_key, signature, &message, NOW);
        assert_eq!(
            wrong,
            Err(Rejection::SignatureMismatch),
            "TEST {}",
            index + 1
        );
    }
}

const P256_FILE: &str = "scheme = \"ecdsa-p256\"\nsigned = \"{timestamp}{body}\"\n[secret]\nencoding = \"base64\"\n[signature]\nheader = \"X-Sig\"\nencoding = \"base64\"\n[timestamp]\nheader = \"X-Time\"\ntolerance_secs = 300\n";

#[test]
fn ecdsa_der_and_raw_signatures_with_spki_and_point_keys() {
    let der = custom(P256_FILE);
    let raw = custom(&P256_FILE.replace(
        "encoding = \"base64\"\n[timestamp]",
        "encoding = \"base64\"\necdsa_format = \"raw\"\n[timestamp]",
    ));
    for key in [P256_SPKI, P256_POINT] {
        assert_eq!(verify_custom(&der, key, P256_DER, P256_BODY, NOW), Ok(0));
        assert_eq!(verify_custom(&raw, key, P256_RAW, P256_BODY, NOW), Ok(0));
    }
    // Each layout is only read where it is configured.
    assert_eq!(
        verify_custom(&der, P256_SPKI, P256_RAW, P256_BODY, NOW),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        verify_custom(&raw, P256_SPKI, P256_DER, P256_BODY, NOW),
        Err(Rejection::MalformedSignature)
    );
    assert_eq!(
        verify_custom(&der, SENDGRID_KEY, P256_DER, P256_BODY, NOW),
        Err(Rejection::SignatureMismatch)
    );
}

#[test]
fn public_keys_are_checked_at_startup_and_never_printed() {
    let discord = provider("discord");
    let short = discord
        .secret_key(&"ab".repeat(31))
        .unwrap_err()
        .to_string();
    assert_eq!(
        short,
        "provider `discord`: secret: expected a 32-byte Ed25519 public key, got 31 bytes"
    );
    let huge = "ab".repeat(1 << 19);
    assert!(
        discord
            .secret_key(&huge)
            .unwrap_err()
            .to_string()
            .contains("got 524288 bytes")
    );
    assert!(
        discord
            .secret_key("not hex")
            .unwrap_err()
            .to_string()
            .contains("expected a hex secret")
    );
    let telnyx = provider("telnyx");
    assert!(
        telnyx.secret_key(DISCORD_KEY).is_err(),
        "hex is not Telnyx's base64"
    );

    let sendgrid = provider("sendgrid");
    let spki = STANDARD.decode(P256_SPKI).unwrap();
    let mut trailing = spki.clone();
    trailing.push(0);
    let mut not_uncompressed = STANDARD.decode(P256_POINT).unwrap();
    not_uncompressed[0] = 0x02;
    // An Ed25519 SubjectPublicKeyInfo: python3 cryptography, PublicFormat.SubjectPublicKeyInfo.
    let ed25519_spki = "MCowBQYDK2VwAyEAPMOjfPlglhDNhzfGEvdUZF1cJ4/6IrIyqf33UYJX5+s=";
    for (bad, why) in [
        (STANDARD.encode(&spki[..spki.len() - 10]), "truncated"),
        (STANDARD.encode(&spki[..2]), "truncated header"),
        (STANDARD.encode(trailing), "found bytes after the key"),
        (STANDARD.encode(not_uncompressed), "compressed point"),
        (ed25519_spki.to_string(), "another type or curve"),
        (STANDARD.encode(vec![0x30; 1 << 20]), "huge"),
    ] {
        let error = sendgrid.secret_key(&bad).unwrap_err().to_string();
        assert!(
            error.contains("expected a P-256 public key"),
            "{why}: {error}"
        );
        assert!(
            !error.contains(&bad[..bad.len().min(20)]),
            "{why}: the key is not printed"
        );
    }
    assert!(sendgrid.secret_key(P256_POINT).is_ok());
}

#[test]
fn sign_reproduces_and_round_trips() {
    // Ed25519 is deterministic: signing with the private key gives the vector's signature.
    let discord = provider("discord");
    let signed = discord
        .sign(DISCORD_BODY, DISCORD_PEM, "https://h/", NOW)
        .unwrap();
    assert_eq!(
        signed.header("X-Signature-Ed25519"),
        Some(DISCORD_SIGNATURE)
    );
    assert_eq!(signed.header("X-Signature-Timestamp"), Some("1700000000"));

    let sendgrid = provider("sendgrid");
    let signed = sendgrid
        .sign(P256_BODY, P256_PEM, "https://h/", NOW)
        .unwrap();
    let signature = signed
        .header("X-Twilio-Email-Event-Webhook-Signature")
        .unwrap();
    assert_eq!(
        verify_custom(&custom(P256_FILE), P256_SPKI, signature, P256_BODY, NOW),
        Ok(0)
    );

    // Keys made by rcgen (PKCS#8 v2 for Ed25519), public keys given as the dashboards show them.
    let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cases = [
        ("telnyx", &ed, STANDARD.encode(ed.public_key_raw())),
        ("discord", &ed, hex::encode(ed.public_key_raw())),
        (
            "sendgrid",
            &p256,
            STANDARD.encode(rcgen::PublicKeyData::subject_public_key_info(&p256)),
        ),
        ("sendgrid", &p256, STANDARD.encode(p256.public_key_raw())),
    ];
    for (name, pair, public_key) in cases {
        let provider = provider(name);
        let signed = provider
            .sign(b"{\"a\":1}", &pair.serialize_pem(), "https://h/", NOW)
            .unwrap();
        let request = test_request(&signed.headers, &signed.body, "https://h/", NOW + 1);
        let keys = [provider.secret_key(&public_key).unwrap()];
        assert_eq!(provider.verify(&request, &keys, None), Ok(0), "{name}");
    }
}

#[test]
fn sign_names_an_unusable_private_key() {
    let cases = [
        ("discord", P256_PEM, "not an Ed25519 PKCS#8 key"),
        ("sendgrid", DISCORD_PEM, "not a P-256 PKCS#8 key"),
        ("discord", "not a key", "expected a PKCS#8 PEM private key"),
        (
            "discord",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "found a CERTIFICATE block",
        ),
        (
            "sendgrid",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "not a P-256",
        ),
    ];
    for (name, pem, expected) in cases {
        let error = provider(name)
            .sign(b"{}", pem, "https://h/", NOW)
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{name}: {error}");
    }
}

#[test]
fn public_key_file_errors_name_the_key() {
    let cases = [
        (
            ED25519_BODY_ONLY.replacen(
                "scheme = \"ed25519\"\n",
                "scheme = \"ed25519\"\nalgorithm = \"sha256\"\n",
                1,
            ),
            "key `algorithm`: not used by scheme = \"ed25519\"",
        ),
        (
            ED25519_BODY_ONLY.replace("encoding = \"hex\"\n", ""),
            "key `signature.encoding`: required",
        ),
        (
            format!("{ED25519_BODY_ONLY}ecdsa_format = \"raw\"\n"),
            "key `signature.ecdsa_format`: not used by scheme = \"ed25519\"",
        ),
        (
            format!("{ED25519_BODY_ONLY}pointer = \"/x\"\n"),
            "key `signature.pointer`",
        ),
        (
            ED25519_BODY_ONLY.replace("{body}", "{timestamp}{body}"),
            "key `signed`",
        ),
        (
            P256_FILE.replace(
                "[timestamp]\nheader = \"X-Time\"\ntolerance_secs = 300\n",
                "",
            ),
            "key `signed`",
        ),
        (
            P256_FILE.replace("signed = \"{timestamp}{body}\"\n", ""),
            "key `signed`: required with scheme = \"ecdsa-p256\"",
        ),
        (
            P256_FILE.replace("header = \"X-Sig\"\n", ""),
            "key `signature.header`: required",
        ),
    ];
    for (text, expected) in cases {
        let error = Provider::parse("custom", &text).unwrap_err().to_string();
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
}
