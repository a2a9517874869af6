//! The seed inputs of the fuzz targets: requests of every shipped provider signed as its sender
//! would sign them (by `Provider::sign`: a seed only has to be realistic, nothing is checked
//! against it; AWS SNS and PayPal from the x509 fixtures), handshakes, the shipped provider
//! files, the example config, the fixtures' certificates. They were written once into
//! `fuzz/corpus/<target>/seed-*` and minimised into the committed corpus with what the fuzzer
//! found; to add them again (after a new provider, say), run
//! `cargo test --test api write_fuzz_seeds -- --ignored`, then `scripts/fuzz` to minimise.

use std::path::{Path, PathBuf};

use crate::hookgate_fuzz::NOW;
use crate::hookgate_fuzz::sources::{Source, sources};
use crate::hookgate_fuzz::wire::encode;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const URL: &str = "https://hooks.example.com/webhooks/src_1";
const JSON_BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid","event":"ping","data":{"id":"obj_1","object":{"id":"obj_1"}},"value":[{"clientState":"s","resource":"r"}],"timestamp":1740830400}"#;
/// Adyen signs each `NotificationRequestItem` of its batch.
const ADYEN_BODY: &[u8] = br#"{"live":"false","notificationItems":[{"NotificationRequestItem":{"pspReference":"7914073381342284","originalReference":"","merchantAccountCode":"TestMerchant","merchantReference":"TestPayment-1","amount":{"value":1130,"currency":"EUR"},"eventCode":"AUTHORISATION","success":"true"}}]}"#;
const FORM_BODY: &[u8] = b"AccountSid=AC123&Body=hello+world%21&From=%2B15551234567&MessageSid=SM1";

#[test]
#[ignore = "writes into fuzz/corpus: run by hand to add seeds"]
fn write_fuzz_seeds() {
    let corpus = Path::new(ROOT).join("fuzz/corpus");
    write_requests(&corpus.join("verify_request"));
    write_provider_files(&corpus.join("provider_file"));
    write_configs(&corpus.join("config"));
    write_templates(&corpus.join("template"));
    let timestamps: [&[u8]; 7] = [
        b"1740830400",
        b"1740830400000",
        b"999999999999999999",
        b"2025-03-01T12:00:00Z",
        b"2019-11-16T10:11:12.634234626+01:00",
        b"-1",
        b"",
    ];
    write_all(&corpus.join("timestamp"), "timestamp", &timestamps);
    let forms: [&[u8]; 4] = [
        FORM_BODY,
        b"bt_signature=pub%7Cab12&bt_payload=PHg%2B%0A",
        b"a=%zz&b=%e2%82%ac&c=%&d=+%2B+&&",
        b"caf\xc3\xa9=\xff",
    ];
    write_all(&corpus.join("form"), "form", &forms);
    let certificates: Vec<Vec<u8>> = ["cert.pem", "ec.pem", "expired.pem", "rsa1024.pem"]
        .iter()
        .map(|name| fixture(name))
        .collect();
    let certificates: Vec<&[u8]> = certificates.iter().map(Vec::as_slice).collect();
    write_all(&corpus.join("certificate"), "certificate", &certificates);
    let pointers: [&[u8]; 3] = [
        br#"/value/*/clientState
{"value":[{"clientState":"a"},{"clientState":"b","x":[1,2]}]}"#,
        br#"/a~1b/~0
{"a/b":{"~":1}}"#,
        b"/value/0/*\n[[1],{\"value\":[]}]",
    ];
    write_all(&corpus.join("body_pointer"), "body_pointer", &pointers);
}

/// A signed request per provider, the x509 fixtures, and handshakes.
fn write_requests(dir: &Path) {
    for (name, source) in sources() {
        match signed(source) {
            Some(request) => write(dir, &format!("seed-{name}"), &request),
            None if source.signing_secret.is_some() => eprintln!("no signed seed for {name}"),
            None => {}
        }
    }
    for file in [
        "sns-notification-v1.json",
        "sns-notification-v2.json",
        "sns-subscriptionconfirmation-v2.json",
        "sns-unsubscribeconfirmation-v1.json",
    ] {
        let request = encode("aws-sns", URL, &json_headers(), &fixture(file));
        write(dir, &format!("seed-{file}"), &request);
    }
    let paypal: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("paypal-headers.json")).expect("the headers are JSON");
    let headers: Vec<(String, String)> = paypal
        .into_iter()
        .map(|(name, value)| (name, value.as_str().unwrap_or_default().to_string()))
        .collect();
    let request = encode("paypal", URL, &headers, &fixture("paypal-body.json"));
    write(dir, "seed-paypal", &request);
    let handshakes: [(&str, String, &[u8]); 6] = [
        ("meta", format!("{URL}?hub.mode=subscribe&hub.verify_token=fuzz-verify-token&hub.challenge=1158201444"), b""),
        ("dropbox", format!("{URL}?challenge=abc123"), b""),
        ("x", format!("{URL}?crc_token=challenge_token"), b""),
        ("ms-graph", format!("{URL}?validationToken=Validation%3A+Testing"), b""),
        ("notion", URL.to_string(), br#"{"verification_token":"secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"}"#),
        ("slack", URL.to_string(), br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#),
    ];
    for (provider, url, body) in handshakes {
        let request = encode(provider, &url, &json_headers(), body);
        write(dir, &format!("seed-handshake-{provider}"), &request);
    }
}

/// The request `source`'s provider would send: a JSON body, else Adyen's, else a form body.
fn signed(source: &Source) -> Option<Vec<u8>> {
    let secret = source.signing_secret?;
    let provider = &source.provider;
    [JSON_BODY, ADYEN_BODY, FORM_BODY].iter().find_map(|body| {
        let request = provider.sign(body, secret, URL, NOW).ok()?;
        Some(encode(
            provider.name(),
            &request.url,
            &request.headers,
            &request.body,
        ))
    })
}

fn json_headers() -> Vec<(String, String)> {
    vec![("Content-Type".to_string(), "application/json".to_string())]
}

fn write_provider_files(dir: &Path) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("providers"))
        .expect("providers/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        write(dir, &format!("seed-{stem}"), &std::fs::read(&path).unwrap());
    }
}

fn write_configs(dir: &Path) {
    let example = std::fs::read(Path::new(ROOT).join("hookgate.example.toml")).unwrap();
    write(dir, "seed-example", &example);
    let small = br#"[server]
listen = "127.0.0.1:8080"
admin_listen = "127.0.0.1:8081"
[database]
url = "${DATABASE_URL}"
[[sources]]
id = "stripe_main"
provider = "stripe"
secrets = ["${STRIPE_SECRET}", "${OLD_SECRET:-whsec_old}"]
tolerance_secs = 600
destinations = ["billing"]
[[destinations]]
id = "billing"
url = "http://127.0.0.1:9000/hooks"
timeout_ms = 5000
"#;
    write(dir, "seed-small", small);
}

/// Every shipped provider's `signed` template over a request with every value it may read.
fn write_templates(dir: &Path) {
    let headers = vec![
        ("X-Fuzz-Timestamp".to_string(), "1740830400".to_string()),
        ("X-Fuzz-Id".to_string(), "EVT_1".to_string()),
        ("X-Request-Id".to_string(), "req-1".to_string()),
        ("Content-Type".to_string(), "application/json".to_string()),
    ];
    let url = format!("{URL}?data.id=ABC&type=payment");
    for name in sources().keys() {
        let text = std::fs::read_to_string(Path::new(ROOT).join(format!("providers/{name}.toml")))
            .expect("a shipped provider file");
        let file: toml::Table = toml::from_str(&text).expect("a shipped provider file parses");
        if let Some(signed) = file.get("signed").and_then(toml::Value::as_str) {
            let request = encode(signed, &url, &headers, JSON_BODY);
            write(dir, &format!("seed-{name}"), &request);
        }
    }
    let extra = encode(
        "[id:{header:X-Request-Id|lower};]ts:{timestamp};{json:/data/id}",
        &url,
        &headers,
        JSON_BODY,
    );
    write(dir, "seed-groups", &extra);
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(ROOT).join("tests/fixtures/x509").join(name)).expect("a fixture")
}

fn write_all(dir: &Path, prefix: &str, inputs: &[&[u8]]) {
    for (index, input) in inputs.iter().enumerate() {
        write(dir, &format!("seed-{prefix}-{index}"), input);
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).expect("the corpus directory can be made");
    std::fs::write(dir.join(name), data).expect("a seed can be written");
}
