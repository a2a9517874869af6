//! AWS SNS and PayPal through the real HTTP route, with their certificates served by a local
//! server listed in the sources' `allowed_cert_urls`. SNS messages are the python-signed
//! fixtures of `tests/fixtures/x509/` (`generate.py`); PayPal requests are signed here with
//! ring's RSA signer and a CRC-32 written out below, never with `hookgate::verify`.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hookgate::app::{Application, ServeOptions};
use hookgate::config::Config;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/x509/");
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:hookgate-test";
const WEBHOOK_ID: &str = "1JE4291016473214C";

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// A certificate host: counts the requests it gets and answers by path.
pub struct CertServer {
    pub base: String,
    requests: Arc<AtomicUsize>,
}

impl CertServer {
    pub async fn start() -> CertServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split(' ').nth(1).unwrap_or_default().to_string();
                    let _ = answer(&mut socket, &path).await;
                });
            }
        });
        CertServer { base, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn answer(socket: &mut tokio::net::TcpStream, path: &str) -> std::io::Result<()> {
    let ok = |length: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n")
    };
    match path {
        "/cert.pem" | "/expired.pem" | "/ec.pem" => {
            let pem = fixture(&path[1..]);
            socket.write_all(ok(pem.len()).as_bytes()).await?;
            socket.write_all(&pem).await
        }
        "/big.pem" => {
            socket.write_all(ok(10 << 20).as_bytes()).await?;
            socket.write_all(&vec![b'A'; 10 << 20]).await
        }
        "/big-unannounced.pem" => {
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&vec![b'A'; 10 << 20]).await
        }
        // SNS's ConfirmSubscription action, as a SubscribeURL names it.
        path if path.starts_with("/?Action=ConfirmSubscription") => {
            let reply = b"<ConfirmSubscriptionResponse/>";
            socket.write_all(ok(reply.len()).as_bytes()).await?;
            socket.write_all(reply).await
        }
        "/moved.pem" => {
            let head = "HTTP/1.1 302 Found\r\nLocation: /cert.pem\r\nContent-Length: 0\r\n\r\n";
            socket.write_all(head.as_bytes()).await
        }
        "/hang.pem" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
        _ => {
            let head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await
        }
    }
}

/// An SNS fixture with its (unsigned) `SigningCertURL` pointed at `cert_url`, after `edit`.
fn sns_message(file: &str, cert_url: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut message: serde_json::Value = serde_json::from_slice(&fixture(file)).unwrap();
    message["SigningCertURL"] = cert_url.into();
    edit(&mut message);
    message.to_string()
}

/// CRC-32 (ISO-HDLC: reflected, polynomial 0xEDB88320), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The PKCS #8 DER inside the fixture key's PEM.
pub fn signing_key() -> RsaKeyPair {
    let pem = String::from_utf8(fixture("key.pem")).unwrap();
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    RsaKeyPair::from_pkcs8(&STANDARD.decode(base64).unwrap()).unwrap()
}

/// PayPal's headers for `body` sent at unix time `t`, certificate at `cert_url`.
fn paypal_headers(body: &str, t: i64, cert_url: &str) -> Vec<(String, String)> {
    let id = uuid::Uuid::now_v7().to_string();
    let time = OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&Rfc3339)
        .unwrap();
    let signed = format!("{id}|{time}|{WEBHOOK_ID}|{}", crc32(body.as_bytes()));
    let key = signing_key();
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    headers(&[
        ("Content-Type", "application/json"),
        ("PAYPAL-TRANSMISSION-ID", &id),
        ("PAYPAL-TRANSMISSION-TIME", &time),
        ("PAYPAL-TRANSMISSION-SIG", &STANDARD.encode(signature)),
        ("PAYPAL-CERT-URL", cert_url),
        ("PAYPAL-AUTH-ALGO", "SHA256withRSA"),
    ])
}

fn paypal_body() -> String {
    let id = uuid::Uuid::now_v7().simple();
    serde_json::json!({"id": format!("WH-{id}"), "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource": {"amount": {"value": "7.47", "currency_code": "USD"}}})
    .to_string()
}

fn sources(certs: &CertServer) -> String {
    let allowed = format!("allowed_cert_urls = [\"{}\"]", certs.base);
    format!(
        r#"
[[sources]]
id = "sns"
provider = "aws-sns"
secrets = []
{allowed}
topic_arns = ["{TOPIC}"]
destinations = ["billing"]

[[sources]]
id = "sns-other-topic"
provider = "aws-sns"
{allowed}
topic_arns = ["arn:aws:sns:us-east-1:123456789012:other"]

[[sources]]
id = "sns-aws-hosts"
provider = "aws-sns"

[[sources]]
id = "paypal"
provider = "paypal"
webhook_id = "{WEBHOOK_ID}"
{allowed}
destinations = ["billing"]
"#
    )
}

async fn code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = json(response).await;
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_messages_verify_with_the_certificate_they_name() {
    let certs = CertServer::start().await;
    let app = spawn_app_with(TestOptions {
        extra_config: sources(&certs),
        ..Default::default()
    })
    .await;
    let cert = certs.url("cert.pem");
    let text = [("Content-Type", "text/plain; charset=UTF-8")];

    for file in ["sns-notification-v1.json", "sns-notification-v2.json"] {
        let tampered = sns_message(file, &cert, |m| m["Message"] = "tampered".into());
        let response = app.post("sns", &headers(&text), tampered).await;
        assert_eq!(
            code(response).await,
            (401, "signature_mismatch".into()),
            "{file}"
        );
        let response = app
            .post("sns", &headers(&text), sns_message(file, &cert, |_| {}))
            .await;
        assert_eq!(response.status(), 202, "{file}");
    }
    let confirmation = sns_message("sns-subscriptionconfirmation-v2.json", &cert, |_| {});
    let response = app.post("sns", &headers(&text), confirmation).await;
    assert_eq!(
        response.status(),
        200,
        "a verified confirmation is a handshake"
    );
    let stored = app
        .count("SELECT count(*) FROM events WHERE event_type = 'SubscriptionConfirmation'")
        .await;
    assert_eq!(stored, 0, "and never stored");
    assert_eq!(
        certs.requests(),
        1,
        "the certificate is fetched once, then cached"
    );

    let other_topic = sns_message("sns-notification-v2.json", &cert, |_| {});
    let response = app
        .post("sns-other-topic", &headers(&text), other_topic)
        .await;
    assert_eq!(code(response).await, (403, "topic_not_allowed".into()));

    // The default list only has AWS's hosts: the local URL is refused without a request.
    let before = certs.requests();
    let local = certs.url("new.pem");
    for (source, cert_url) in [
        ("sns-aws-hosts", local.as_str()),
        (
            "sns-aws-hosts",
            "https://sns.us-east-1.amazonaws.com@127.0.0.1/x.pem",
        ),
        ("sns", "http://127.0.0.1:9/x.pem"),
    ] {
        let message = sns_message("sns-notification-v2.json", cert_url, |_| {});
        let response = app.post(source, &headers(&text), message).await;
        assert_eq!(
            code(response).await,
            (401, "certificate_url_refused".into()),
            "{source}: {cert_url}"
        );
    }
    assert_eq!(certs.requests(), before, "no certificate was requested");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_certificate_urls_are_refused_never_500_or_hang() {
    let certs = CertServer::start().await;
    let app = spawn_app_with(TestOptions {
        extra_config: sources(&certs),
        ..Default::default()
    })
    .await;
    let text = headers(&[("Content-Type", "text/plain; charset=UTF-8")]);
    for (path, expected) in [
        ("expired.pem", "certificate_invalid"),
        ("ec.pem", "certificate_invalid"),
        ("big.pem", "certificate_unavailable"),
        ("big-unannounced.pem", "certificate_unavailable"),
        ("moved.pem", "certificate_unavailable"),
        ("missing.pem", "certificate_unavailable"),
        ("hang.pem", "certificate_unavailable"),
    ] {
        let message = sns_message("sns-notification-v2.json", &certs.url(path), |_| {});
        let started = Instant::now();
        let response = app.post("sns", &text, message).await;
        assert_eq!(code(response).await, (401, expected.into()), "{path}");
        assert!(started.elapsed() < Duration::from_secs(8), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_webhooks_verify_with_the_certificate_and_webhook_id() {
    let certs = CertServer::start().await;
    let app = spawn_app_with(TestOptions {
        extra_config: sources(&certs),
        ..Default::default()
    })
    .await;
    let cert = certs.url("cert.pem");
    let body = paypal_body();
    let valid = paypal_headers(&body, now(), &cert);
    let response = app.post("paypal", &valid, format!("{body} ")).await;
    assert_eq!(code(response).await, (401, "signature_mismatch".into()));
    let stale = paypal_headers(&body, now() - 301, &cert);
    let response = app.post("paypal", &stale, body.clone()).await;
    assert_eq!(
        code(response).await,
        (401, "timestamp_out_of_tolerance".into())
    );
    let elsewhere = paypal_headers(&body, now(), "https://api.paypal.com.evil.test/CERT-1");
    let response = app.post("paypal", &elsewhere, body.clone()).await;
    assert_eq!(
        code(response).await,
        (401, "certificate_url_refused".into())
    );
    let response = app.post("paypal", &valid, body.clone()).await;
    assert_eq!(response.status(), 202);
    let stored = json(response).await;
    assert!(stored["event_id"].as_str().unwrap().starts_with("WH-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paypal_source_without_webhook_id_does_not_start() {
    let database = create_database(&server_url()).await;
    let extra = "\n[[sources]]\nid = \"paypal\"\nprovider = \"paypal\"\n";
    let text = config_text(&database.url, &Dest::default(), &Dest::default(), extra);
    let config = Config::parse(Path::new("test.toml"), &text, Rc::new(|_| None)).unwrap();
    let started = Application::build(config, Path::new("test.toml"), ServeOptions::default());
    let Err(err) = started.await else {
        panic!("started a paypal source without webhook_id");
    };
    let message = format!("{err:#}");
    assert!(
        message.contains(r#"sources[9] ("paypal").webhook_id: required by provider `paypal`"#),
        "{message}"
    );
}
