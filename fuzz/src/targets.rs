//! What each fuzz target does with one input. The targets under `fuzz_targets/` call these, and
//! the test suite replays the committed corpus through them (`tests/api/fuzz_corpus.rs`), so a
//! crash found here stays a regression test there. Every one must finish without a panic;
//! some also check a property and panic (an assertion) when it does not hold.

use std::path::Path;
use std::rc::Rc;

use hookgate::config::{Config, UnsetEnv};
use hookgate::verify::fuzzing::{
    TimestampFormat, apply_body_pointer, decode_form, parse_certificate, parse_timestamp,
    render_template,
};
use hookgate::verify::{HeaderSource, Provider, Request, SourceOptions};
use serde_json::Value;

use super::NOW;
use super::sources::sources;
use super::wire::WireRequest;

/// A target: what it does with one input.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz_targets/` file and corpus directory.
pub const ALL: [(&str, Target); 8] = [
    ("verify_request", verify_request),
    ("provider_file", provider_file),
    ("config", config),
    ("timestamp", timestamp),
    ("template", template),
    ("form", form),
    ("certificate", certificate),
    ("body_pointer", body_pointer),
];

/// A webhook request (see [`WireRequest`]) to the source of the provider its first line names,
/// taken through every step ingest takes: the GET handshake on its query, the unsigned
/// handshake, the certificate URL, verification, the verified handshake and identification.
/// That reaches every signature header format, signed-string template, timestamp, JSON pointer
/// and form parser with the shipped provider files around them.
pub fn verify_request(data: &[u8]) {
    let Some(wire) = WireRequest::decode(data) else {
        return;
    };
    let Some(source) = sources().get(wire.first_line) else {
        return;
    };
    let provider = &source.provider;
    let _ = provider.handshake_get(wire.query(), &source.options, &source.keys);
    let mut request = Request {
        headers: &wire.headers,
        body: wire.body,
        url: wire.url,
        now_unix: NOW,
        options: &source.options,
        certificate: None,
    };
    if provider.handshake_unsigned(&request).is_some() {
        return;
    }
    let Ok(certificate) = source.certificate(&request) else {
        return;
    };
    request.certificate = certificate.as_ref();
    let verified = provider.verify(&request, &source.keys, None);
    // A fuzzer cannot forge a signature, so the steps after verification run on every request:
    // more than ingest lets through, and none of it may panic either.
    let key = verified.map_or(source.keys.first(), |index| source.keys.get(index));
    let _ = provider.handshake_verified(&request, key);
    let _ = provider.identify(&request);
}

/// Provider file text, as `providers/NAME.toml` or an operator's providers directory holds it:
/// parsed and compiled, then every question hookgate asks a provider, test secrets decoded, a
/// request signed the way the file says (also at the latest instant `hookgate sign --timestamp`
/// takes), verified and identified.
pub fn provider_file(data: &[u8]) {
    const SECRETS: [&str; 3] = [
        "fuzz-user:fuzz-password",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "00112233445566778899aabbccddeeff",
    ];
    const BODY: &[u8] = br#"{"id":"evt_1","type":"fuzz.event","data":{"object":{"id":"o"}}}"#;
    const URL: &str = "https://hooks.example.com/webhooks/fuzz?id=evt_1";
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(provider) = Provider::parse("fuzzed", text) else {
        return;
    };
    let _ = (
        provider.scheme_name(),
        provider.headers(),
        provider.signing_input(),
    );
    let _ = (
        provider.default_tolerance_secs(),
        provider.requires_secrets(),
    );
    let _ = (provider.handshake_name(), provider.accepted_response());
    let _ = provider.check_options(SourceOptions::NONE);
    for secret in SECRETS {
        let _ = provider.secret_warning(secret);
        let Ok(key) = provider.secret_key(secret) else {
            continue;
        };
        let _ = provider.sign(BODY, secret, URL, i64::MAX);
        let Ok(signed) = provider.sign(BODY, secret, URL, NOW) else {
            continue;
        };
        let request = Request {
            headers: &signed.headers,
            body: &signed.body,
            url: &signed.url,
            now_unix: NOW,
            options: SourceOptions::NONE,
            certificate: None,
        };
        let _ = provider.verify(&request, &[key], None);
        let _ = provider.identify(&request);
        let _ = provider.handshake_get(&signed.url, SourceOptions::NONE, &[]);
    }
}

/// Config file text: parsed, `${VAR}` interpolated from a fixed environment (a few variables
/// set, the rest unset) and validated, as `hookgate serve` and `hookgate check-config` do.
pub fn config(data: &[u8]) {
    fn env(name: &str) -> Option<String> {
        match name {
            "DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/postgres".to_string()),
            "STRIPE_SECRET" => Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent/hookgate.toml");
    for unset in [UnsetEnv::Reject, UnsetEnv::Allow] {
        let _ = Config::parse_with(path, text, Rc::new(env), unset);
    }
}

/// A signed timestamp in each format a provider file may name. The unix formats must agree with
/// a simple model: 1 to 18 ASCII digits read as a decimal number, milliseconds divided down.
pub fn timestamp(raw: &[u8]) {
    let valid = (1..=18).contains(&raw.len()) && raw.iter().all(u8::is_ascii_digit);
    let model: Option<i64> = valid
        .then(|| std::str::from_utf8(raw).ok()?.parse().ok())
        .flatten();
    let parsed = |format| parse_timestamp(format, raw).ok();
    assert_eq!(parsed(TimestampFormat::Unix), model, "unix {raw:?}");
    assert_eq!(
        parsed(TimestampFormat::UnixMs),
        model.map(|ms| ms / 1000),
        "ms {raw:?}"
    );
    let either = model.map(|n| if n >= 100_000_000_000 { n / 1000 } else { n });
    assert_eq!(
        parsed(TimestampFormat::UnixSOrMs),
        either,
        "s or ms {raw:?}"
    );
    let _ = parsed(TimestampFormat::Rfc3339);
}

/// A signed-string template (a provider file's `signed`) compiled and rendered: the input is a
/// [`WireRequest`] whose first line is the template; its `X-Fuzz-Timestamp` and `X-Fuzz-Id`
/// headers stand for the timestamp and event id a scheme extracts, and its body, when JSON, for
/// the item `{json:…}` reads. A template without `{`, `[` or `]` must render as itself.
pub fn template(data: &[u8]) {
    let Some(wire) = WireRequest::decode(data) else {
        return;
    };
    let json: Option<Value> = serde_json::from_slice(wire.body).ok();
    let rendered = render_template(
        wire.first_line,
        &wire.headers,
        wire.url,
        wire.body,
        wire.headers.header("X-Fuzz-Timestamp"),
        wire.headers.header("X-Fuzz-Id"),
        json.as_ref(),
    );
    let text = wire.first_line;
    if !text.is_empty() && !text.contains(['{', '[', ']']) {
        let rendered = rendered.expect("a literal template compiles");
        assert_eq!(rendered.ok().as_deref(), Some(text.as_bytes()));
    }
}

/// A form body (Twilio, Braintree): verification's fast decoder must read exactly the fields
/// `form_urlencoded::parse` reads.
pub fn form(body: &[u8]) {
    let expected: Vec<_> = url::form_urlencoded::parse(body).collect();
    assert_eq!(decode_form(body), expected);
}

/// The bytes served at a signing certificate's URL (AWS SNS, PayPal), parsed as the certificate
/// cache parses them.
pub fn certificate(pem: &[u8]) {
    const URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fuzz.pem";
    if let Ok(certificate) = parse_certificate(URL, pem) {
        assert_eq!(certificate.url(), URL);
    }
}

/// A `*` JSON pointer (first line) applied to a JSON body (the rest): read, as Microsoft
/// Graph's `clientState` is checked, and set, as it is signed.
pub fn body_pointer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pointer, json) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(mut root) = serde_json::from_str::<Value>(json) else {
        return;
    };
    let _ = apply_body_pointer(pointer, &mut root, &Value::from("fuzz"));
}
