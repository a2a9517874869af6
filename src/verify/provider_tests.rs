//! Every shipped provider file against published or independently computed signatures. Expected
//! values come from the providers' documentation or from python3's `hmac` module, never from this
//! crate. Each vector's header value is at `sig` in `headers`.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::*;

mod asymmetric;
mod body;
mod catalogue;
mod form_and_manifest;
mod original;
mod tokens;
mod x509;

fn registry() -> &'static ProviderRegistry {
    static REGISTRY: OnceLock<ProviderRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| ProviderRegistry::built_in().expect("shipped providers load"))
}

/// A request as these tests send it: no provider-specific source keys, no certificate.
fn test_request<'a>(
    headers: &'a dyn HeaderSource,
    body: &'a [u8],
    url: &'a str,
    now_unix: i64,
) -> Request<'a> {
    Request {
        headers,
        body,
        url,
        now_unix,
        options: SourceOptions::NONE,
        certificate: None,
    }
}

fn provider(name: &str) -> Arc<Provider> {
    registry().get(name).expect("provider is shipped")
}

/// Headers as raw bytes, so tests can send what a `String` cannot hold.
struct RawHeaders(Vec<(String, Vec<u8>)>);

impl HeaderSource for RawHeaders {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    fn is_repeated(&self, name: &str) -> bool {
        let mut named = self
            .0
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name));
        named.nth(1).is_some()
    }
}

/// One known-good request of a provider.
#[derive(Clone)]
struct Vector {
    provider: &'static str,
    secret: &'static str,
    url: &'static str,
    body: &'static [u8],
    /// The signed timestamp, or any instant for providers without one.
    now: i64,
    /// Index in `headers` of the signature header.
    sig: usize,
    headers: Vec<(&'static str, &'static str)>,
    identity: (&'static str, Option<&'static str>),
}

impl Vector {
    fn headers(&self) -> RawHeaders {
        RawHeaders(
            self.headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn with_header(&self, index: usize, value: &[u8]) -> RawHeaders {
        let mut headers = self.headers();
        headers.0[index].1 = value.to_vec();
        headers
    }

    fn without_header(&self, index: usize) -> RawHeaders {
        let mut headers = self.headers();
        headers.0.remove(index);
        headers
    }

    fn keys(&self, secrets: &[&str]) -> Vec<SecretKey> {
        let provider = provider(self.provider);
        secrets
            .iter()
            .map(|secret| provider.secret_key(secret).unwrap())
            .collect()
    }

    fn check_with(
        &self,
        headers: &dyn HeaderSource,
        body: &[u8],
        now: i64,
        secrets: &[&str],
        tolerance: Option<u64>,
    ) -> Result<(), Rejection> {
        let request = test_request(headers, body, self.url, now);
        provider(self.provider)
            .verify(&request, &self.keys(secrets), tolerance)
            .map(|_matched_key| ())
    }

    fn check(&self, headers: &dyn HeaderSource) -> Result<(), Rejection> {
        self.check_with(headers, self.body, self.now, &[self.secret], None)
    }
}

const SLACK_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

fn vectors() -> Vec<Vector> {
    let mut vectors = original::vectors();
    vectors.extend(catalogue::vectors());
    vectors.extend(body::vectors());
    vectors
}

#[test]
fn all_shipped_providers_load() {
    let names: Vec<&str> = registry().entries().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "adyen",
            "alchemy",
            "authorize-net",
            "aws-sns",
            "basic-auth",
            "bitbucket",
            "braintree",
            "calendly",
            "checkout",
            "circleci",
            "coinbase-commerce",
            "discord",
            "dropbox",
            "gitea",
            "github",
            "gitlab",
            "gocardless",
            "heroku",
            "hubspot",
            "intercom",
            "lemon-squeezy",
            "line",
            "linear",
            "mailgun",
            "mercadopago",
            "meta",
            "mollie",
            "ms-graph",
            "mux",
            "notion",
            "paddle",
            "pagerduty",
            "paypal",
            "paystack",
            "persona",
            "postmark",
            "razorpay",
            "recurly",
            "sendgrid",
            "sentry",
            "shopify",
            "slack",
            "square",
            "standard-webhooks",
            "stripe",
            "svix",
            "telegram",
            "telnyx",
            "token",
            "twilio",
            "twitch",
            "typeform",
            "vercel",
            "vonage",
            "webflow",
            "woocommerce",
            "workos",
            "x",
            "xero",
            "zendesk",
            "zoom",
        ]
    );
}

#[test]
fn the_catalogue_table_has_one_row_per_provider() {
    let readme = include_str!("../../providers/README.md");
    let (_, catalogue) = readme
        .split_once("## The catalogue")
        .expect("providers/README.md has a catalogue");
    let rows: Vec<&str> = catalogue
        .lines()
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
        .collect();
    let files: Vec<&str> = registry().entries().map(|(name, _)| name).collect();
    assert_eq!(rows, files);
}

#[test]
fn the_readme_counts_the_providers() {
    let count = registry().entries().count();
    let claim = format!("hookgate verifies {count} providers");
    assert!(include_str!("../../README.md").contains(&claim), "{claim}");
}

#[test]
fn the_catalogue_names_each_providers_handshake_and_required_answer() {
    let readme = include_str!("../../providers/README.md");
    let (_, catalogue) = readme.split_once("## The catalogue").unwrap();
    // Cells are separated by `|`; an escaped `\|` inside a cell is text.
    let cells = |line: &str| -> Vec<String> {
        let escaped_as_nul = line.trim().trim_matches('|').replace("\\|", "\0");
        escaped_as_nul
            .split('|')
            .map(|cell| cell.trim().replace('\0', "\\|"))
            .collect()
    };
    let mut lines = catalogue.lines().filter(|line| line.starts_with('|'));
    let header = cells(lines.next().unwrap());
    let column = header.iter().position(|cell| cell == "handshake").unwrap();
    for row in lines.filter(|line| line.starts_with("| `")).map(cells) {
        let name = row[0].trim_matches('`');
        let provider = provider(name);
        let cell = &row[column];
        match provider.handshake_name() {
            Some(handshake) => assert!(cell.contains(&format!("`{handshake}`")), "{name}: {cell}"),
            None => assert!(
                !cell.contains('`') || cell.starts_with("answers"),
                "{name}: {cell}"
            ),
        }
        if let Some(answer) = provider.accepted_response() {
            let said = format!("answers {}", answer.status);
            assert!(cell.contains(&said), "{name}: {cell}");
        }
    }
}

#[test]
fn every_vector_provider_is_shipped_and_every_provider_has_a_vector() {
    // The public-key and token schemes keep their vectors apart: the checks below assume HMAC.
    let mut tested: Vec<&str> = vectors().iter().map(|v| v.provider).collect();
    tested.extend(x509::PROVIDERS);
    tested.extend(body::BODY_SIGNED);
    tested.extend(asymmetric::vectors().iter().map(|(v, _)| v.provider));
    tested.extend(tokens::vectors().iter().map(|v| v.provider));
    tested.extend(form_and_manifest::vectors().iter().map(|v| v.provider));
    tested.sort_unstable();
    tested.dedup();
    let files: Vec<&str> = registry().entries().map(|(name, _)| name).collect();
    assert_eq!(tested, files);
}

#[test]
fn published_and_computed_vectors_verify() {
    for v in vectors() {
        assert_eq!(v.check(&v.headers()), Ok(()), "{}", v.provider);
    }
}

#[test]
fn tampering_and_wrong_secrets_are_mismatches() {
    for v in vectors() {
        let mut tampered = v.body.to_vec();
        tampered.push(b' ');
        let mismatch = Err(Rejection::SignatureMismatch);
        assert_eq!(
            v.check_with(&v.headers(), &tampered, v.now, &[v.secret], None),
            mismatch,
            "{} tampered body",
            v.provider
        );
        let wrong = v.check_with(
            &v.headers(),
            v.body,
            v.now,
            &["whsec_d3JvbmdzZWNyZXQ="],
            None,
        );
        assert_eq!(wrong, mismatch, "{} wrong secret", v.provider);
        assert_eq!(
            v.check_with(&v.headers(), v.body, v.now, &[], None),
            mismatch,
            "{} no keys",
            v.provider
        );
    }
}

#[test]
fn rotation_second_key_matches() {
    for v in vectors() {
        let rotated = v.check_with(
            &v.headers(),
            v.body,
            v.now,
            &["whsec_b2xkc2VjcmV0", v.secret],
            None,
        );
        assert_eq!(rotated, Ok(()), "{}", v.provider);
    }
}

#[test]
fn missing_and_malformed_signature_headers() {
    for v in vectors() {
        let missing = Err(Rejection::MissingSignature);
        let malformed = Err(Rejection::MalformedSignature);
        assert_eq!(v.check(&v.without_header(v.sig)), missing, "{}", v.provider);
        assert_eq!(
            v.check(&v.with_header(v.sig, b"  ")),
            missing,
            "{}",
            v.provider
        );
        for bad in [&b"!!!not a signature!!!"[..], b"\xff\xfe\x00", b"v1=zz,t=1"] {
            assert_eq!(
                v.check(&v.with_header(v.sig, bad)),
                malformed,
                "{} {bad:?}",
                v.provider
            );
        }
    }
}

#[test]
fn a_repeated_header_that_verification_reads_is_refused_whichever_copy_is_valid() {
    for v in vectors() {
        let read = provider(v.provider)
            .headers()
            .join(",")
            .to_ascii_lowercase();
        let read = read.split(',').collect::<Vec<_>>();
        for (index, (name, value)) in v.headers.iter().enumerate() {
            if !read.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            for (first, second) in [
                (value.as_bytes(), value.as_bytes()),
                (value.as_bytes(), b"forged".as_slice()),
                (b"forged".as_slice(), value.as_bytes()),
            ] {
                let mut headers = v.with_header(index, first);
                headers.0.push((name.to_string(), second.to_vec()));
                let outcome = v.check(&headers);
                assert_eq!(
                    outcome,
                    Err(Rejection::RepeatedHeader),
                    "{} {name}",
                    v.provider
                );
            }
        }
    }
}

#[test]
fn stale_and_future_timestamps_are_rejected() {
    for v in vectors() {
        let provider = provider(v.provider);
        let Some(tolerance) = provider.default_tolerance_secs() else {
            let far = v.check_with(&v.headers(), v.body, v.now + 10_000_000, &[v.secret], None);
            assert_eq!(far, Ok(()), "{} signs no timestamp", v.provider);
            continue;
        };
        let at =
            |now: i64, tolerance| v.check_with(&v.headers(), v.body, now, &[v.secret], tolerance);
        let out = Err(Rejection::TimestampOutOfTolerance);
        let edge = tolerance as i64;
        assert_eq!(at(v.now + edge, None), Ok(()), "{}", v.provider);
        assert_eq!(at(v.now - edge, None), Ok(()), "{}", v.provider);
        assert_eq!(at(v.now + edge + 1, None), out, "{} stale", v.provider);
        assert_eq!(at(v.now - edge - 1, None), out, "{} future", v.provider);
        assert_eq!(
            at(v.now + edge + 1, Some(tolerance + 100)),
            Ok(()),
            "{} override",
            v.provider
        );
        assert_eq!(
            at(v.now + 5, Some(4)),
            out,
            "{} strict override",
            v.provider
        );
    }
}

fn vector(provider: &str) -> Vector {
    vectors()
        .into_iter()
        .find(|v| v.provider == provider)
        .unwrap()
}

#[test]
fn hostile_stripe_headers() {
    let v = vector("stripe");
    let sig = "v1=22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31";
    let forty_digits = format!("t={},{sig}", "9".repeat(40));
    let repeated = format!("t=1700000000,t=1700000000,{sig}");
    let empty_t = format!("t=,{sig}");
    let no_t = sig.to_string();
    let commas = format!("t=1700000000,{}{sig}", ",".repeat(10_000));
    let huge = format!("t=1700000000,v1={}", "a".repeat(1 << 20));
    let negative = format!("t=-1700000000,{sig}");
    let cases: Vec<(&[u8], Rejection)> = vec![
        (forty_digits.as_bytes(), Rejection::MalformedTimestamp),
        (repeated.as_bytes(), Rejection::MalformedTimestamp),
        (empty_t.as_bytes(), Rejection::MalformedTimestamp),
        (negative.as_bytes(), Rejection::MalformedTimestamp),
        (no_t.as_bytes(), Rejection::MissingTimestamp),
        (b",,,,", Rejection::MalformedSignature),
        (b"t=1700000000,v1=", Rejection::MalformedSignature),
        (b"t=1700000000,v1", Rejection::MalformedSignature),
        (b"=,=,=", Rejection::MalformedSignature),
        (huge.as_bytes(), Rejection::MalformedSignature),
    ];
    for (value, expected) in cases {
        let shown = String::from_utf8_lossy(&value[..value.len().min(60)]);
        assert_eq!(v.check(&v.with_header(0, value)), Err(expected), "{shown}");
    }
    assert_eq!(v.check(&v.with_header(0, commas.as_bytes())), Ok(()));
    // A signature that does not decode is ignored when another one matches.
    let mixed = format!("t=1700000000,v1=nothex,{sig}");
    assert_eq!(v.check(&v.with_header(0, mixed.as_bytes())), Ok(()));
}

#[test]
fn hostile_timestamp_headers() {
    let v = vector("slack");
    for (value, expected) in [
        (&b"abc"[..], Rejection::MalformedTimestamp),
        (b"", Rejection::MalformedTimestamp),
        (b"\xff", Rejection::MalformedTimestamp),
        (
            b"99999999999999999999999999999999999999",
            Rejection::MalformedTimestamp,
        ),
        (b"1531420618.5", Rejection::MalformedTimestamp),
    ] {
        assert_eq!(
            v.check(&v.with_header(1, value)),
            Err(expected),
            "{value:?}"
        );
    }
    assert_eq!(
        v.check(&v.without_header(1)),
        Err(Rejection::MissingTimestamp)
    );
}

#[test]
fn standard_webhooks_needs_its_id_header() {
    let v = vector("standard-webhooks");
    assert_eq!(
        v.check(&v.without_header(1)),
        Err(Rejection::MissingSignature)
    );
    let other_id = v.with_header(1, b"msg_other");
    assert_eq!(v.check(&other_id), Err(Rejection::SignatureMismatch));
    // A whsec_ secret without its prefix decodes to the same key.
    let unprefixed = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert_eq!(
        v.check_with(&v.headers(), v.body, v.now, &[unprefixed], None),
        Ok(())
    );
}

#[test]
fn twilio_body_hash_must_match_the_body() {
    let json = vectors()
        .into_iter()
        .find(|v| v.url.contains("bodySHA256"))
        .unwrap();
    let other = json.check_with(&json.headers(), br#"{"a":2}"#, json.now, &["12345"], None);
    assert_eq!(other, Err(Rejection::SignatureMismatch));
}

#[test]
fn identify_reads_where_the_file_says() {
    for v in vectors() {
        let headers = v.headers();
        let request = test_request(&headers, v.body, v.url, v.now);
        let got = provider(v.provider).identify(&request);
        let (id, kind) = v.identity;
        assert_eq!(got.event_id, id, "{}", v.provider);
        assert_eq!(got.event_type.as_deref(), kind, "{}", v.provider);
    }
}

#[test]
fn sign_round_trips_through_verify() {
    let body = br#"{"id":"evt_9","type":"invoice.paid","event_id":"e9","event":"order.paid","event_type":"x"}"#;
    for v in vectors() {
        let provider = provider(v.provider);
        let url = v.url;
        let signed_body: &[u8] = if v.provider == "twilio" { v.body } else { body };
        let signed = provider
            .sign(signed_body, v.secret, url, 1_800_000_000)
            .unwrap();
        assert!(signed.header("Content-Type").is_some());
        let request = test_request(&signed.headers, &signed.body, url, 1_800_000_010);
        let other = provider.secret_key("whsec_YW5vdGhlcg==").unwrap();
        let keys = [other, provider.secret_key(v.secret).unwrap()];
        assert_eq!(
            provider.verify(&request, &keys, None),
            Ok(1),
            "the second key matches: {}",
            v.provider
        );
        let identity = provider.identify(&request);
        assert!(!identity.event_id.is_empty());
        let wrong = provider.verify(&request, &keys[..1], None);
        assert_eq!(wrong, Err(Rejection::SignatureMismatch), "{}", v.provider);
    }
}

#[test]
fn sign_reproduces_published_headers() {
    let v = vector("standard-webhooks");
    let signed = provider("standard-webhooks")
        .sign(v.body, v.secret, v.url, 1_614_265_330)
        .unwrap();
    let header = |name: &str| signed.header(name);
    assert_eq!(header("webhook-timestamp"), Some("1614265330"));
    assert!(header("webhook-id").unwrap().starts_with("msg_"));
    let github = provider("github")
        .sign(b"Hello, World!", "It's a Secret to Everybody", "", 0)
        .unwrap();
    assert_eq!(
        github.header("X-Hub-Signature-256"),
        Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    );
    assert_eq!(github.header("X-GitHub-Event"), Some("ping"));
    let twilio = vector("twilio");
    let signed = provider("twilio")
        .sign(twilio.body, "12345", twilio.url, 0)
        .unwrap();
    assert_eq!(
        signed.header("X-Twilio-Signature"),
        Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    );
    assert_eq!(
        signed.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[test]
fn secrets_are_checked_and_never_printed() {
    let standard = provider("standard-webhooks");
    let error = standard.secret_key("whsec_%%%").unwrap_err().to_string();
    assert_eq!(
        error,
        "provider `standard-webhooks`: secret: expected a whsec_ prefixed base64 secret"
    );
    assert!(provider("stripe").secret_key("").is_err());
    let key = provider("stripe").secret_key("whsec_very_secret").unwrap();
    assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
}

fn parse_error(text: &str) -> String {
    Provider::parse("custom", text).unwrap_err().to_string()
}

const MINIMAL: &str = "scheme = \"hmac\"\nalgorithm = \"sha256\"\nsigned = \"{body}\"\n[signature]\nheader = \"X-Sig\"\nencoding = \"hex\"\n";

#[test]
fn a_new_provider_is_a_new_file() {
    let text = format!("{MINIMAL}[event_type]\nheader = \"X-Kind\"\nexample = \"test\"\n");
    let custom = Provider::parse("custom", &text).unwrap();
    assert_eq!(custom.name(), "custom");
    assert_eq!(custom.default_tolerance_secs(), None);
    let sha512 = MINIMAL.replace("sha256", "sha512").replace("hex", "base64");
    let signed = Provider::parse("custom", &sha512)
        .unwrap()
        .sign(b"x", "k", "", 0)
        .unwrap();
    assert_eq!(signed.header("X-Sig").map(str::len), Some(88));
}

#[test]
fn file_errors_name_the_key_and_why() {
    let cases = [
        (format!("{MINIMAL}colour = 1\n"), "unknown field `colour`"),
        (MINIMAL.replace("sha256", "md5"), "unknown variant `md5`"),
        (
            MINIMAL.replace("signed = \"{body}\"\n", ""),
            "key `signed`: required",
        ),
        (
            MINIMAL.replace("{body}", "{bdy}"),
            "unknown placeholder `{bdy}`",
        ),
        (
            MINIMAL.replace("{body}", "{timestamp}{body}"),
            "key `signed`",
        ),
        (
            MINIMAL.replace("{body}", "{id}{body}"),
            "`{id}` needs [event_id] header",
        ),
        (
            format!("{MINIMAL}format = \"pairs\"\n"),
            "key `signature.pair_separator`",
        ),
        (
            format!("{MINIMAL}format = \"pairs\"\npair_separator = \",\"\nkv_separator = \"=\"\n"),
            "key `signature.keys`",
        ),
        (
            format!("{MINIMAL}[timestamp]\nkey = \"t\"\ntolerance_secs = 300\n")
                .replace("{body}", "{timestamp}.{body}"),
            "key `timestamp.key`",
        ),
        (
            format!("{MINIMAL}[event_id]\nheader = \"X\"\npointer = \"/id\"\n"),
            "key `event_id`",
        ),
        (
            format!("{MINIMAL}[event_type]\nheader = \"X\"\n"),
            "key `event_type.example`",
        ),
        (
            format!("{MINIMAL}[secret]\nprefix = \"whsec_\"\n"),
            "key `secret.prefix`",
        ),
        (
            "scheme = \"twilio\"\nalgorithm = \"sha1\"\n[signature]\nheader = \"X\"\n".to_string(),
            "key `algorithm`: not used by scheme = \"twilio\"",
        ),
        ("scheme = \"rot13\"".to_string(), "unknown variant `rot13`"),
    ];
    for (text, expected) in cases {
        let error = parse_error(&text);
        assert!(error.starts_with("provider `custom`"), "{error}");
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
}

#[test]
fn load_dir_names_the_file() {
    let dir = std::env::temp_dir().join(format!("hookgate-providers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.toml"), MINIMAL.replace("hex", "octal")).unwrap();
    let error = ProviderRegistry::load_dir(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(error.contains("broken.toml"), "{error}");
    assert!(error.contains("unknown variant `octal`"), "{error}");
    let missing = ProviderRegistry::load_dir(Path::new("/nonexistent/providers"));
    assert!(
        missing
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/providers")
    );
}
