//! AWS SNS and PayPal, which sign with an RSA certificate fetched from a URL the request names.
//! The certificates and signed messages under `tests/fixtures/x509/` were made by python3's
//! `cryptography` (`generate.py` there), independently of this crate; the SNS canonical strings
//! below are written out by hand from AWS's documented format and its documented examples.

use super::*;
use crate::verify::aws_sns::Message;

/// The providers these tests cover, for the every-provider-has-a-vector check.
pub(super) const PROVIDERS: [&str; 2] = ["aws-sns", "paypal"];

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/x509/");
const SNS_CERT_URL: &str =
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-hookgate-test.pem";
const PAYPAL_CERT_URL: &str = "https://api.paypal.com/v1/notifications/certs/CERT-hookgate-test";
const PAYPAL_WEBHOOK_ID: &str = "1JE4291016473214C";
/// 2025-03-01T12:00:03Z, the PayPal fixture's transmission time.
const PAYPAL_TIME: i64 = 1_740_830_403;
/// Any instant in the test certificate's validity (2020 to 2120).
const NOW: i64 = 1_740_830_400;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

fn certificate(file: &str, url: &str) -> SigningCertificate {
    SigningCertificate::from_pem(url, &fixture(file)).unwrap()
}

fn sns_options(topics: &[&str]) -> SourceOptions {
    SourceOptions {
        topic_arns: topics.iter().map(|topic| topic.to_string()).collect(),
        ..SourceOptions::default()
    }
}

fn paypal_options(webhook_id: &str) -> SourceOptions {
    SourceOptions {
        webhook_id: Some(webhook_id.to_string()),
        ..SourceOptions::default()
    }
}

fn check(
    provider_name: &str,
    headers: &dyn HeaderSource,
    body: &[u8],
    options: &SourceOptions,
    certificate: Option<&SigningCertificate>,
    now: i64,
) -> Result<usize, Rejection> {
    let request = Request {
        headers,
        body,
        url: "https://hooks.example.com/webhooks/x",
        now_unix: now,
        options,
        certificate,
    };
    provider(provider_name).verify(&request, &[], None)
}

fn sns(
    body: &[u8],
    options: &SourceOptions,
    cert: Option<&SigningCertificate>,
) -> Result<usize, Rejection> {
    check("aws-sns", &RawHeaders(Vec::new()), body, options, cert, NOW)
}

fn edited(file: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut message: serde_json::Value = serde_json::from_slice(&fixture(file)).unwrap();
    edit(&mut message);
    serde_json::to_vec(&message).unwrap()
}

/// A change to a fixture message.
type Edit = fn(&mut serde_json::Value);

const SNS_FIXTURES: [&str; 4] = [
    "sns-notification-v1.json",
    "sns-notification-v2.json",
    "sns-subscriptionconfirmation-v2.json",
    "sns-unsubscribeconfirmation-v1.json",
];

#[test]
fn sns_canonical_strings_follow_aws_documented_examples() {
    // https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html (example message)
    let notification = br#"{
      "Type" : "Notification",
      "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
      "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
      "Subject" : "My First Message",
      "Message" : "Hello world!",
      "Timestamp" : "2012-05-02T00:54:06.655Z",
      "SignatureVersion" : "1",
      "Signature" : "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
      "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
      "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"
    }"#;
    assert_eq!(
        Message::parse(notification).unwrap().canonical().unwrap(),
        "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n\
         Subject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\n\
         TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
    );
    // https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html
    let token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736";
    let subscribe_url = format!(
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token={token}"
    );
    let confirmation = format!(
        r#"{{
      "Type" : "SubscriptionConfirmation",
      "MessageId" : "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
      "Token" : "{token}",
      "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
      "Message" : "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
      "SubscribeURL" : "{subscribe_url}",
      "Timestamp" : "2012-04-26T20:45:04.751Z",
      "SignatureVersion" : "1",
      "Signature" : "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
      "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
    }}"#
    );
    let expected = format!(
        "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n\
         To confirm the subscription, visit the SubscribeURL included in this message.\n\
         MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\nSubscribeURL\n{subscribe_url}\n\
         Timestamp\n2012-04-26T20:45:04.751Z\nToken\n{token}\n\
         TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nSubscriptionConfirmation\n"
    );
    assert_eq!(
        Message::parse(confirmation.as_bytes())
            .unwrap()
            .canonical()
            .unwrap(),
        expected
    );
    // An UnsubscribeConfirmation has the confirmation's fields.
    let unsubscribe = confirmation.replace(
        "\"SubscriptionConfirmation\"",
        "\"UnsubscribeConfirmation\"",
    );
    assert_eq!(
        Message::parse(unsubscribe.as_bytes())
            .unwrap()
            .canonical()
            .unwrap(),
        expected.replace(
            "\nSubscriptionConfirmation\n",
            "\nUnsubscribeConfirmation\n"
        )
    );
}

#[test]
fn sns_messages_signed_by_python_verify_v1_and_v2() {
    let cert = certificate("cert.pem", SNS_CERT_URL);
    for file in SNS_FIXTURES {
        let body = fixture(file);
        assert_eq!(sns(&body, &sns_options(&[]), Some(&cert)), Ok(0), "{file}");
    }
}

#[test]
fn sns_tampering_is_a_mismatch() {
    let cert = certificate("cert.pem", SNS_CERT_URL);
    let mismatch = Err(Rejection::SignatureMismatch);
    let cases: [(&str, Edit); 6] = [
        ("sns-notification-v1.json", |m| {
            m["Message"] = "other".into()
        }),
        ("sns-notification-v1.json", |m| {
            m.as_object_mut().unwrap().remove("Subject");
        }),
        ("sns-notification-v2.json", |m| {
            m["Subject"] = "added".into()
        }),
        ("sns-notification-v2.json", |m| {
            m["SignatureVersion"] = "1".into()
        }),
        ("sns-notification-v1.json", |m| {
            m["TopicArn"] = "arn:aws:sns:us-east-1:1:x".into()
        }),
        ("sns-subscriptionconfirmation-v2.json", |m| {
            m["SubscribeURL"] =
                "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x".into()
        }),
    ];
    for (file, edit) in cases {
        let body = edited(file, edit);
        assert_eq!(
            sns(&body, &sns_options(&[]), Some(&cert)),
            mismatch,
            "{file}"
        );
    }
    // Fields outside the canonical string are not signed (SNS documents which are).
    let unsigned = edited("sns-notification-v2.json", |m| {
        m["UnsubscribeURL"] = "x".into()
    });
    assert_eq!(sns(&unsigned, &sns_options(&[]), Some(&cert)), Ok(0));
}

#[test]
fn sns_topics_outside_topic_arns_are_forbidden_once_verified() {
    let cert = certificate("cert.pem", SNS_CERT_URL);
    let body = fixture("sns-notification-v2.json");
    let ours = "arn:aws:sns:us-east-1:123456789012:hookgate-test";
    assert_eq!(sns(&body, &sns_options(&[ours]), Some(&cert)), Ok(0));
    let other = sns_options(&["arn:aws:sns:us-east-1:123456789012:other"]);
    assert_eq!(
        sns(&body, &other, Some(&cert)),
        Err(Rejection::TopicNotAllowed)
    );
    // A forged message from another topic is a plain mismatch: authenticity comes first.
    let forged = edited("sns-notification-v2.json", |m| {
        m["Message"] = "forged".into()
    });
    assert_eq!(
        sns(&forged, &other, Some(&cert)),
        Err(Rejection::SignatureMismatch)
    );
}

#[test]
fn sns_certificate_must_be_the_named_one_and_valid_now() {
    let body = fixture("sns-notification-v1.json");
    let none = sns_options(&[]);
    assert_eq!(
        sns(&body, &none, None),
        Err(Rejection::CertificateUnavailable)
    );
    let elsewhere = certificate("cert.pem", "https://sns.us-east-1.amazonaws.com/other.pem");
    assert_eq!(
        sns(&body, &none, Some(&elsewhere)),
        Err(Rejection::CertificateUnavailable)
    );
    let expired = certificate("expired.pem", SNS_CERT_URL);
    assert_eq!(
        sns(&body, &none, Some(&expired)),
        Err(Rejection::CertificateInvalid)
    );
    let cert = certificate("cert.pem", SNS_CERT_URL);
    // 2019-12-31, before the certificate's validity.
    let early = check(
        "aws-sns",
        &RawHeaders(Vec::new()),
        &body,
        &none,
        Some(&cert),
        1_577_750_400,
    );
    assert_eq!(early, Err(Rejection::CertificateInvalid));
}

#[test]
fn unusable_certificates_are_refused_when_parsed() {
    let pem = fixture("cert.pem");
    let text = String::from_utf8(pem.clone()).unwrap();
    let der_truncated = {
        let lines: Vec<&str> = text.lines().collect();
        let kept = [&lines[..lines.len() / 2], &lines[lines.len() - 1..]].concat();
        kept.join("\n")
    };
    let key = fixture("key.pem");
    let cases: [(&str, &[u8]); 7] = [
        ("ec", &fixture("ec.pem")),
        ("rsa1024", &fixture("rsa1024.pem")),
        ("truncated DER", der_truncated.as_bytes()),
        ("truncated PEM", &pem[..pem.len() / 2]),
        ("a private key", &key),
        ("empty", b""),
        ("html", b"<html><body>Not Found</body></html>"),
    ];
    for (what, bytes) in cases {
        assert!(
            SigningCertificate::from_pem(SNS_CERT_URL, bytes).is_err(),
            "{what}"
        );
    }
    let ten_megabytes = vec![b'A'; 10 << 20];
    assert!(SigningCertificate::from_pem(SNS_CERT_URL, &ten_megabytes).is_err());
}

#[test]
fn hostile_sns_bodies_are_rejections() {
    let cert = certificate("cert.pem", SNS_CERT_URL);
    let options = sns_options(&[]);
    let valid = fixture("sns-notification-v2.json");
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let duplicate =
        String::from_utf8(valid.clone())
            .unwrap()
            .replacen("{", "{\"Message\": \"first\",", 1);
    let huge_signature = edited("sns-notification-v2.json", |m| {
        m["Signature"] = "A".repeat(1 << 20).into()
    });
    let cases: Vec<(&str, Vec<u8>, Rejection)> = vec![
        (
            "truncated",
            valid[..valid.len() / 2].to_vec(),
            Rejection::MalformedMessage,
        ),
        ("nested", nested.into_bytes(), Rejection::MalformedMessage),
        (
            "duplicate key",
            duplicate.into_bytes(),
            Rejection::MalformedMessage,
        ),
        (
            "not json",
            b"\xff\xfe".to_vec(),
            Rejection::MalformedMessage,
        ),
        (
            "number message",
            edited("sns-notification-v2.json", |m| m["Message"] = 42.into()),
            Rejection::MalformedMessage,
        ),
        (
            "unknown type",
            edited("sns-notification-v2.json", |m| m["Type"] = "Other".into()),
            Rejection::MalformedMessage,
        ),
        (
            "confirmation without token",
            edited("sns-subscriptionconfirmation-v2.json", |m| {
                m.as_object_mut().unwrap().remove("Token");
            }),
            Rejection::MalformedMessage,
        ),
        (
            "no signature",
            edited("sns-notification-v2.json", |m| {
                m.as_object_mut().unwrap().remove("Signature");
            }),
            Rejection::MissingSignature,
        ),
        (
            "blank signature",
            edited("sns-notification-v2.json", |m| m["Signature"] = " ".into()),
            Rejection::MissingSignature,
        ),
        (
            "signature not base64",
            edited("sns-notification-v2.json", |m| m["Signature"] = "!!".into()),
            Rejection::MalformedSignature,
        ),
        (
            "huge signature",
            huge_signature,
            Rejection::SignatureMismatch,
        ),
        (
            "version 3",
            edited("sns-notification-v2.json", |m| {
                m["SignatureVersion"] = "3".into()
            }),
            Rejection::MalformedSignature,
        ),
        (
            "no certificate URL",
            edited("sns-notification-v2.json", |m| {
                m.as_object_mut().unwrap().remove("SigningCertURL");
            }),
            Rejection::MissingSignature,
        ),
        (
            "certificate URL off the list",
            edited("sns-notification-v2.json", |m| {
                m["SigningCertURL"] = "https://sns.us-east-1.amazonaws.com@evil.com/x.pem".into()
            }),
            Rejection::CertificateUrlRefused,
        ),
    ];
    for (what, body, expected) in cases {
        assert_eq!(sns(&body, &options, Some(&cert)), Err(expected), "{what}");
    }
}

#[tokio::test]
async fn a_certificate_url_off_the_list_is_refused_before_any_fetch() {
    let sns = provider("aws-sns");
    let listed = SourceOptions {
        allowed_cert_urls: vec!["http://127.0.0.1:9/certs/".to_string()],
        ..SourceOptions::default()
    };
    for (options, url) in [
        (
            SourceOptions::NONE,
            "http://sns.us-east-1.amazonaws.com/x.pem",
        ),
        (SourceOptions::NONE, "https://sns.evil.com/x.pem"),
        (&listed, SNS_CERT_URL),
    ] {
        let body = edited("sns-notification-v2.json", |m| {
            m["SigningCertURL"] = url.into()
        });
        let request = Request {
            headers: &RawHeaders(Vec::new()),
            body: &body,
            url: "https://hooks.example.com/",
            now_unix: NOW,
            options,
            certificate: None,
        };
        let fetched = sns.fetch_certificate(&request).await;
        assert_eq!(
            fetched.unwrap_err(),
            Rejection::CertificateUrlRefused,
            "{url}"
        );
    }
    let stripe = provider("stripe");
    let body = fixture("sns-notification-v2.json");
    let headers = RawHeaders(Vec::new());
    let request = test_request(&headers, &body, "https://hooks.example.com/", NOW);
    assert_eq!(stripe.fetch_certificate(&request).await, Ok(None));
}

fn paypal_headers() -> Vec<(String, String)> {
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fixture("paypal-headers.json")).unwrap();
    headers
        .into_iter()
        .map(|(name, value)| (name, value.as_str().unwrap().to_string()))
        .collect()
}

fn paypal(
    headers: &dyn HeaderSource,
    body: &[u8],
    webhook_id: &str,
    now: i64,
) -> Result<usize, Rejection> {
    let cert = certificate("cert.pem", PAYPAL_CERT_URL);
    check(
        "paypal",
        headers,
        body,
        &paypal_options(webhook_id),
        Some(&cert),
        now,
    )
}

fn with(name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut headers = paypal_headers();
    headers.retain(|(key, _)| key != name);
    if let Some(value) = value {
        headers.push((name.to_string(), value.to_string()));
    }
    headers
}

#[test]
fn paypal_signed_by_python_verifies_and_tampering_does_not() {
    let headers = paypal_headers();
    let body = fixture("paypal-body.json");
    assert_eq!(
        paypal(&headers, &body, PAYPAL_WEBHOOK_ID, PAYPAL_TIME),
        Ok(0)
    );
    let mismatch = Err(Rejection::SignatureMismatch);
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_eq!(
        paypal(&headers, &tampered, PAYPAL_WEBHOOK_ID, PAYPAL_TIME),
        mismatch
    );
    assert_eq!(
        paypal(&headers, &body, "OTHERWEBHOOKID", PAYPAL_TIME),
        mismatch
    );
    let other_id = with(
        "PAYPAL-TRANSMISSION-ID",
        Some("69cd13f0-d67a-11e5-baa3-778b53f4ae56"),
    );
    assert_eq!(
        paypal(&other_id, &body, PAYPAL_WEBHOOK_ID, PAYPAL_TIME),
        mismatch
    );
    let identity = provider("paypal").identify(&test_request(&headers, &body, "", PAYPAL_TIME));
    assert_eq!(identity.event_id, "WH-2WR32451HC0233532-67976317FL4543714");
    assert_eq!(
        identity.event_type.as_deref(),
        Some("PAYMENT.CAPTURE.COMPLETED")
    );
}

#[test]
fn paypal_transmission_time_is_within_the_tolerance() {
    let headers = paypal_headers();
    let body = fixture("paypal-body.json");
    let at = |now| paypal(&headers, &body, PAYPAL_WEBHOOK_ID, now);
    assert_eq!(provider("paypal").default_tolerance_secs(), Some(300));
    assert_eq!(at(PAYPAL_TIME + 300), Ok(0));
    assert_eq!(at(PAYPAL_TIME - 300), Ok(0));
    assert_eq!(
        at(PAYPAL_TIME + 301),
        Err(Rejection::TimestampOutOfTolerance)
    );
    assert_eq!(
        at(PAYPAL_TIME - 301),
        Err(Rejection::TimestampOutOfTolerance)
    );
}

#[test]
fn hostile_paypal_headers_are_rejections() {
    let body = fixture("paypal-body.json");
    let huge = "A".repeat(1 << 20);
    let cases: Vec<(Vec<(String, String)>, Rejection)> = vec![
        (
            with("PAYPAL-TRANSMISSION-SIG", None),
            Rejection::MissingSignature,
        ),
        (
            with("PAYPAL-TRANSMISSION-SIG", Some("!!")),
            Rejection::MalformedSignature,
        ),
        (
            with("PAYPAL-TRANSMISSION-SIG", Some(&huge)),
            Rejection::SignatureMismatch,
        ),
        (
            with("PAYPAL-AUTH-ALGO", Some("SHA1withRSA")),
            Rejection::MalformedSignature,
        ),
        (
            with("PAYPAL-TRANSMISSION-ID", None),
            Rejection::MissingSignature,
        ),
        (
            with("PAYPAL-TRANSMISSION-TIME", None),
            Rejection::MissingTimestamp,
        ),
        (
            with("PAYPAL-TRANSMISSION-TIME", Some("1740830403")),
            Rejection::MalformedTimestamp,
        ),
        (with("PAYPAL-CERT-URL", None), Rejection::MissingSignature),
        (
            with(
                "PAYPAL-CERT-URL",
                Some("https://api.paypal.com.evil.com/CERT-1"),
            ),
            Rejection::CertificateUrlRefused,
        ),
        (
            with(
                "PAYPAL-CERT-URL",
                Some("http://api.paypal.com/v1/notifications/certs/CERT-1"),
            ),
            Rejection::CertificateUrlRefused,
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            paypal(&headers, &body, PAYPAL_WEBHOOK_ID, PAYPAL_TIME),
            Err(expected),
            "{headers:?}"
        );
    }
    // Without PAYPAL-AUTH-ALGO the one algorithm PayPal uses is assumed.
    let no_algo = with("PAYPAL-AUTH-ALGO", None);
    assert_eq!(
        paypal(&no_algo, &body, PAYPAL_WEBHOOK_ID, PAYPAL_TIME),
        Ok(0)
    );
}

#[test]
fn certificate_providers_take_no_secrets_and_cannot_sign() {
    for name in PROVIDERS {
        let provider = provider(name);
        assert!(!provider.requires_secrets(), "{name}");
        let error = provider.secret_key("anything").unwrap_err().to_string();
        assert!(error.contains("takes no secrets (secrets = [])"), "{error}");
        let error = provider.sign(b"{}", "k", "", 0).unwrap_err().to_string();
        assert!(error.contains("cannot sign"), "{error}");
    }
    assert!(provider("stripe").requires_secrets());
}

#[test]
fn certificate_providers_check_their_source_keys() {
    let paypal = provider("paypal");
    let (key, why) = paypal.check_options(SourceOptions::NONE).unwrap_err();
    assert_eq!(key, "webhook_id");
    assert!(why.starts_with("required by provider `paypal`"), "{why}");
    assert!(
        paypal
            .check_options(&paypal_options(PAYPAL_WEBHOOK_ID))
            .is_ok()
    );
    let sns = provider("aws-sns");
    assert_eq!(
        sns.check_options(&paypal_options("x")).unwrap_err(),
        ("webhook_id", "not used by provider `aws-sns`".to_string())
    );
    let sloppy = SourceOptions {
        allowed_cert_urls: vec!["https://certs.example.com".to_string()],
        ..SourceOptions::default()
    };
    assert_eq!(
        sns.check_options(&sloppy).unwrap_err().0,
        "allowed_cert_urls"
    );
    assert!(
        sns.check_options(&sns_options(&["arn:aws:sns:us-east-1:1:t"]))
            .is_ok()
    );
}

#[test]
fn certificate_scheme_files_refuse_keys_they_fix() {
    let cases = [
        (
            "scheme = \"aws-sns\"\n[signature]\nheader = \"X\"\n",
            "key `signature.header`: not used by scheme = \"aws-sns\"",
        ),
        (
            "scheme = \"aws-sns\"\nalgorithm = \"sha1\"\n",
            "key `algorithm`: not used by scheme = \"aws-sns\"",
        ),
        (
            "scheme = \"paypal\"\n[signature]\nheader = \"X\"\n",
            "key `timestamp`: required with scheme = \"paypal\"",
        ),
        (
            "scheme = \"paypal\"\n[timestamp]\nheader = \"T\"\ntolerance_secs = 1\n",
            "key `signature.header`: required (non-empty) with scheme = \"paypal\"",
        ),
        (
            "scheme = \"paypal\"\n[signature]\nheader = \"X\"\nencoding = \"hex\"\n",
            "key `signature.encoding`: not used by scheme = \"paypal\"",
        ),
        (
            "scheme = \"hmac\"\nalgorithm = \"sha256\"\nsigned = \"{body}\"\n",
            "key `signature.header`: required (non-empty) with scheme = \"hmac\"",
        ),
    ];
    for (text, expected) in cases {
        let error = parse_error(text);
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
}
