//! Verification cost per provider scheme on 1 KB and 64 KB bodies, and the cost of loading
//! every provider file. Run with `cargo bench --bench verify`.
//!
//! One case per scheme class. Requests are built by `Provider::sign` where hookgate can sign
//! (with a fresh key pair for the public-key schemes); AWS SNS and PayPal sign with a
//! certificate hookgate cannot sign for, so their requests are signed here with the RSA key of
//! `tests/fixtures/x509/`, and the fixture certificate reaches `Request.certificate` the way it
//! does in production, through `Provider::fetch_certificate`, from a local certificate host.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hookgate::verify::{
    Provider, ProviderRegistry, Request, SecretKey, SigningCertificate, SigningInput, SourceOptions,
};
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ED25519, PublicKeyData, SignatureAlgorithm};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

type Headers = Vec<(String, String)>;
/// Makes a certificate provider's request (headers, body) carrying a body, at a time, naming a
/// certificate URL, signed with the fixture key.
type BuildSigned = fn(&Rsa, &[u8], i64, &str) -> (Headers, Vec<u8>);

/// One scheme class to measure: the provider, how its requests are signed, how bodies look.
struct Case {
    provider: &'static str,
    signing: Signing,
    /// Bodies are `head`, `x` padding to the size, then `tail`.
    shape: Shape,
}

/// How a case's requests are signed, and what its source configures to verify them.
enum Signing {
    /// `Provider::sign` with the secret the source configures (symmetric schemes).
    Secret(&'static str),
    /// `Provider::sign` with a fresh key pair's PKCS#8 PEM; the source configures the public
    /// key as this function writes it.
    KeyPair(&'static SignatureAlgorithm, fn(&KeyPair) -> String),
    /// `build` makes the request carrying a body (at a time, naming a certificate URL), signed
    /// with the fixture RSA key; the source lists the local certificate host in
    /// `allowed_cert_urls` (and sets `webhook_id` where the provider signs one).
    Certificate {
        build: BuildSigned,
        webhook_id: Option<&'static str>,
    },
}

struct Shape {
    head: &'static [u8],
    tail: &'static [u8],
}

const JSON: Shape = Shape {
    head: br#"{"id":"evt_bench","type":"bench.event","padding":""#,
    tail: br#""}"#,
};
/// Twilio signs the URL and the form fields, so its bodies are forms.
const FORM: Shape = Shape {
    head: b"From=%2B15551234567&To=%2B15557654321&Body=",
    tail: b"",
};
/// Mailgun signs `/signature/timestamp` + `/signature/token` inside the body; `sign` adds the
/// timestamp and signature next to the token.
const MAILGUN: Shape = Shape {
    head: br#"{"signature":{"token":"a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"},"event-data":{"event":"delivered","padding":""#,
    tail: br#""}}"#,
};

const CASES: &[Case] = &[
    Case {
        provider: "stripe",
        signing: Signing::Secret("whsec_bench_secret"),
        shape: JSON,
    },
    Case {
        provider: "github",
        signing: Signing::Secret("bench-secret"),
        shape: JSON,
    },
    Case {
        provider: "standard-webhooks",
        signing: Signing::Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        shape: JSON,
    },
    Case {
        provider: "twilio",
        signing: Signing::Secret("bench-auth-token"),
        shape: FORM,
    },
    Case {
        provider: "discord",
        signing: Signing::KeyPair(&PKCS_ED25519, |pair| hex::encode(pair.public_key_raw())),
        shape: JSON,
    },
    Case {
        provider: "sendgrid",
        signing: Signing::KeyPair(&PKCS_ECDSA_P256_SHA256, |pair| {
            STANDARD.encode(pair.subject_public_key_info())
        }),
        shape: JSON,
    },
    Case {
        provider: "gitlab",
        signing: Signing::Secret("bench-gitlab-token"),
        shape: JSON,
    },
    Case {
        provider: "postmark",
        signing: Signing::Secret("bench-user:bench-password"),
        shape: JSON,
    },
    Case {
        provider: "mailgun",
        signing: Signing::Secret("bench-mailgun-signing-key"),
        shape: MAILGUN,
    },
    Case {
        provider: "vonage",
        signing: Signing::Secret("bench-vonage-signature-secret"),
        shape: JSON,
    },
    Case {
        provider: "aws-sns",
        signing: Signing::Certificate {
            build: sns_notification,
            webhook_id: None,
        },
        shape: JSON,
    },
    Case {
        provider: "paypal",
        signing: Signing::Certificate {
            build: paypal_event,
            webhook_id: Some("1JE4291016473214C"),
        },
        shape: JSON,
    },
];

const URL: &str = "https://hooks.example.com/webhooks/bench";
const SIZES: &[(usize, &str)] = &[(1024, "1KB"), (64 * 1024, "64KB")];
const X509_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/x509/");

fn providers_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/providers"))
}

/// A body of exactly `size` bytes in `shape`.
fn body(size: usize, shape: &Shape) -> Vec<u8> {
    let mut body = shape.head.to_vec();
    body.resize(size - shape.tail.len(), b'x');
    body.extend_from_slice(shape.tail);
    body
}

/// Everything one verification reads, prepared outside the measurement.
struct Prepared {
    headers: Headers,
    body: Vec<u8>,
    keys: Vec<SecretKey>,
    options: SourceOptions,
    certificate: Option<Arc<SigningCertificate>>,
}

impl Prepared {
    fn request(&self, now: i64) -> Request<'_> {
        Request {
            headers: &self.headers,
            body: &self.body,
            url: URL,
            now_unix: now,
            options: &self.options,
            certificate: self.certificate.as_deref(),
        }
    }
}

/// What the certificate cases share: the fixture key that signs, the host that serves the
/// fixture certificate, and a runtime to fetch it on.
struct Certificates {
    rsa: Rsa,
    base_url: String,
    runtime: tokio::runtime::Runtime,
}

impl Certificates {
    fn start() -> Certificates {
        Certificates {
            rsa: Rsa::from_fixture(),
            base_url: serve_certificate(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
        }
    }
}

fn prepare(
    case: &Case,
    provider: &Provider,
    size: usize,
    now: i64,
    certs: &Certificates,
) -> Prepared {
    let body = body(size, &case.shape);
    let decode = |secret: &str| provider.secret_key(secret).expect("secret decodes");
    let signed = |signing_secret: &str, input: SigningInput| {
        assert_eq!(provider.signing_input(), input, "{}", case.provider);
        provider
            .sign(&body, signing_secret, URL, now)
            .expect("provider signs")
    };
    let (headers, body, keys, options) = match &case.signing {
        Signing::Secret(secret) => {
            let request = signed(secret, SigningInput::Secret);
            let keys = vec![decode(secret)];
            (
                request.headers,
                request.body,
                keys,
                SourceOptions::default(),
            )
        }
        Signing::KeyPair(algorithm, public) => {
            let pair = KeyPair::generate_for(algorithm).expect("key pair");
            let request = signed(&pair.serialize_pem(), SigningInput::PrivateKey);
            let keys = vec![decode(&public(&pair))];
            (
                request.headers,
                request.body,
                keys,
                SourceOptions::default(),
            )
        }
        Signing::Certificate { build, webhook_id } => {
            let cert_url = format!("{}cert.pem", certs.base_url);
            let (headers, body) = build(&certs.rsa, &body, now, &cert_url);
            let options = SourceOptions {
                allowed_cert_urls: vec![certs.base_url.clone()],
                webhook_id: webhook_id.map(str::to_string),
                ..SourceOptions::default()
            };
            (headers, body, Vec::new(), options)
        }
    };
    let mut prepared = Prepared {
        headers,
        body,
        keys,
        options,
        certificate: None,
    };
    prepared.certificate = certs
        .runtime
        .block_on(provider.fetch_certificate(&prepared.request(now)))
        .expect("the certificate host answers");
    prepared
}

fn verify(c: &mut Criterion) {
    let registry = ProviderRegistry::load_dir(providers_dir()).expect("providers load");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let certs = Certificates::start();
    let mut group = c.benchmark_group("verify");
    for case in CASES {
        let provider = registry.get(case.provider).expect("provider file exists");
        for &(size, label) in SIZES {
            let prepared = prepare(case, &provider, size, now, &certs);
            let request = prepared.request(now);
            provider
                .verify(&request, &prepared.keys, None)
                .expect("a signed request verifies");
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(
                BenchmarkId::new(case.provider, label),
                &request,
                |b, request| b.iter(|| provider.verify(black_box(request), &prepared.keys, None)),
            );
        }
    }
    group.finish();
}

/// The RSA key of `tests/fixtures/x509/key.pem`, whose certificate is `cert.pem`.
struct Rsa(RsaKeyPair);

impl Rsa {
    fn from_fixture() -> Rsa {
        let pem = std::fs::read_to_string(format!("{X509_FIXTURES}key.pem")).expect("key.pem");
        let base64: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(base64).expect("key.pem is PEM");
        Rsa(RsaKeyPair::from_pkcs8(&der).expect("key.pem is a PKCS#8 RSA key"))
    }

    /// The base64 SHA256withRSA (PKCS #1 v1.5) signature of `message`.
    fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("RSA signs");
        STANDARD.encode(signature)
    }
}

/// An SNS Notification (SignatureVersion 2) whose Message is `body` (so the request is the
/// envelope, ~0.7 KB, larger), signed over the canonical string as
/// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html lists it.
fn sns_notification(rsa: &Rsa, body: &[u8], now: i64, cert_url: &str) -> (Headers, Vec<u8>) {
    let text = std::str::from_utf8(body).expect("a UTF-8 body");
    let mut fields = serde_json::json!({
        "Type": "Notification",
        "MessageId": "5c5e4b45-7f1b-4b8e-9c3b-0a4f3c1d2e99",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:hookgate-bench",
        "Message": text,
        "Timestamp": rfc3339(now),
        "SignatureVersion": "2",
        "SigningCertURL": cert_url,
    });
    let canonical: String = ["Message", "MessageId", "Timestamp", "TopicArn", "Type"]
        .iter()
        .map(|name| format!("{name}\n{}\n", fields[name].as_str().expect("a string")))
        .collect();
    fields["Signature"] = rsa.sign(canonical.as_bytes()).into();
    let headers = vec![("Content-Type".into(), "text/plain; charset=UTF-8".into())];
    (headers, serde_json::to_vec(&fields).expect("JSON"))
}

/// A PayPal event with `body`: the signed string is transmission id|time|webhook id|CRC-32 of
/// the body (decimal), per https://developer.paypal.com/api/rest/webhooks/rest/.
fn paypal_event(rsa: &Rsa, body: &[u8], now: i64, cert_url: &str) -> (Headers, Vec<u8>) {
    let id = "69cd13f0-d67a-11e5-baa3-778b53f4ae99";
    let time = rfc3339(now);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(body);
    let signature = rsa.sign(format!("{id}|{time}|1JE4291016473214C|{crc}").as_bytes());
    let headers = [
        ("Content-Type", "application/json"),
        ("PAYPAL-TRANSMISSION-ID", id),
        ("PAYPAL-TRANSMISSION-TIME", &time),
        ("PAYPAL-TRANSMISSION-SIG", &signature),
        ("PAYPAL-CERT-URL", cert_url),
        ("PAYPAL-AUTH-ALGO", "SHA256withRSA"),
    ];
    let headers = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    (headers, body.to_vec())
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .expect("a valid instant")
        .format(&Rfc3339)
        .expect("RFC 3339 formats")
}

/// Serves `tests/fixtures/x509/cert.pem` over plain HTTP on a local port, to every request,
/// for the life of the bench; the base URL ends in `/`.
fn serve_certificate() -> String {
    let pem = std::fs::read(format!("{X509_FIXTURES}cert.pem")).expect("cert.pem");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let base_url = format!("http://{}/", listener.local_addr().expect("bound"));
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                pem.len()
            );
            let _ = socket
                .write_all(head.as_bytes())
                .and_then(|()| socket.write_all(&pem));
        }
    });
    base_url
}

fn load_providers(c: &mut Criterion) {
    c.bench_function("ProviderRegistry::load_dir", |b| {
        b.iter(|| ProviderRegistry::load_dir(black_box(providers_dir())).expect("providers load"))
    });
}

criterion_group!(benches, verify, load_providers);
criterion_main!(benches);
