//! AWS SNS's built-in scheme: the body is SNS's JSON message, signed (SHA1withRSA for
//! `SignatureVersion` 1, SHA256withRSA for 2) over a canonical string of some of its fields,
//! with the certificate at its `SigningCertURL`. See
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use url::Url;

use super::cert_url::{self, CertHosts};
use super::certificate::RsaHash;
use super::error::Invalid;
use super::key::SecretKey;
use super::schema::ProviderFile;
use super::scheme::Scheme;
use super::sign::SignedRequest;
use super::{Rejection, Request, SourceOptions};

/// An SNS HTTP(S) message: a `Notification`, `SubscriptionConfirmation` or
/// `UnsubscribeConfirmation`. Other fields (`UnsubscribeURL`, `MessageAttributes`) are not
/// signed and not read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Message {
    #[serde(rename = "Type")]
    kind: String,
    message_id: String,
    topic_arn: String,
    message: String,
    timestamp: String,
    subject: Option<String>,
    token: Option<String>,
    #[serde(rename = "SubscribeURL")]
    subscribe_url: Option<String>,
    signature_version: Option<String>,
    signature: Option<String>,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: Option<String>,
}

impl Message {
    /// The message of `body`; anything that is not one is `message_malformed`.
    pub(super) fn parse(body: &[u8]) -> Result<Message, Rejection> {
        serde_json::from_slice(body).map_err(|_| Rejection::MalformedMessage)
    }

    /// The string SNS signs, each field as `Name\nValue\n` in this order: `Message`,
    /// `MessageId`, then `Subject` (a notification's, when present) or `SubscribeURL` (a
    /// confirmation's), `Timestamp`, `Token` (confirmations only), `TopicArn`, `Type`.
    pub(super) fn canonical(&self) -> Result<String, Rejection> {
        let (subject, confirmation) = match self.kind.as_str() {
            "Notification" => (self.subject.as_deref(), None),
            "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
                match (&self.subscribe_url, &self.token) {
                    (Some(url), Some(token)) => (None, Some((url, token))),
                    _ => return Err(Rejection::MalformedMessage),
                }
            }
            _ => return Err(Rejection::MalformedMessage),
        };
        let mut canonical = String::with_capacity(self.message.len() + 512);
        let mut field = |name: &str, value: &str| {
            for part in [name, "\n", value, "\n"] {
                canonical.push_str(part);
            }
        };
        field("Message", &self.message);
        field("MessageId", &self.message_id);
        if let Some(subject) = subject {
            field("Subject", subject);
        }
        if let Some((url, _)) = confirmation {
            field("SubscribeURL", url);
        }
        field("Timestamp", &self.timestamp);
        if let Some((_, token)) = confirmation {
            field("Token", token);
        }
        field("TopicArn", &self.topic_arn);
        field("Type", &self.kind);
        Ok(canonical)
    }

    fn hash(&self) -> Result<RsaHash, Rejection> {
        match self.signature_version.as_deref() {
            Some("1") => Ok(RsaHash::Sha1),
            Some("2") => Ok(RsaHash::Sha256),
            None => Err(Rejection::MissingSignature),
            Some(_) => Err(Rejection::MalformedSignature),
        }
    }

    fn signature(&self) -> Result<Vec<u8>, Rejection> {
        let text = self
            .signature
            .as_deref()
            .filter(|text| !text.trim().is_empty())
            .ok_or(Rejection::MissingSignature)?;
        STANDARD
            .decode(text)
            .map_err(|_| Rejection::MalformedSignature)
    }

    fn cert_url(&self, options: &SourceOptions) -> Result<Url, Rejection> {
        let raw = self
            .signing_cert_url
            .as_deref()
            .ok_or(Rejection::MissingSignature)?;
        cert_url::allowed(raw, CertHosts::AwsSns, &options.allowed_cert_urls)
    }
}

/// The compiled AWS SNS scheme: nothing is configurable but where the id and type are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AwsSnsScheme;

impl AwsSnsScheme {
    pub(super) fn compile(file: &ProviderFile) -> Result<AwsSnsScheme, Invalid> {
        file.only_keys("aws-sns", &[])?;
        Ok(AwsSnsScheme)
    }
}

impl Scheme for AwsSnsScheme {
    fn name(&self) -> &'static str {
        "aws-sns"
    }

    /// SNS signs inside the JSON body (`Signature`, `SigningCertURL`): no header.
    fn headers(&self) -> Vec<&str> {
        Vec::new()
    }

    fn decode_key(&self, _secret: &str) -> Result<SecretKey, String> {
        Err(
            "aws-sns takes no secrets (secrets = []): each message is checked with the \
             certificate at its SigningCertURL"
                .to_string(),
        )
    }

    fn option_keys(&self) -> &'static [&'static str] {
        &["allowed_cert_urls", "topic_arns"]
    }

    fn check_options(&self, options: &SourceOptions) -> Result<(), (&'static str, String)> {
        cert_url::check_prefixes(&options.allowed_cert_urls)
    }

    fn requires_secrets(&self) -> bool {
        false
    }

    fn certificate_url(&self, req: &Request<'_>) -> Result<Option<Url>, Rejection> {
        Message::parse(req.body)?.cert_url(req.options).map(Some)
    }

    /// Signature, then topic: a message from another topic is refused only once it is known
    /// to come from SNS.
    fn verify(
        &self,
        req: &Request<'_>,
        _keys: &[SecretKey],
        _tolerance_secs: Option<u64>,
    ) -> Result<usize, Rejection> {
        let message = Message::parse(req.body)?;
        let hash = message.hash()?;
        let signature = message.signature()?;
        let url = message.cert_url(req.options)?;
        let canonical = message.canonical()?;
        let certificate = req.certificate.ok_or(Rejection::CertificateUnavailable)?;
        certificate.verify(
            url.as_str(),
            hash,
            canonical.as_bytes(),
            &signature,
            req.now_unix,
        )?;
        let topics = &req.options.topic_arns;
        if !topics.is_empty() && !topics.contains(&message.topic_arn) {
            return Err(Rejection::TopicNotAllowed);
        }
        Ok(0)
    }

    fn content_type(&self, _url: &str) -> &'static str {
        "text/plain; charset=UTF-8"
    }

    fn sign(&self, _key: &str, _now_unix: i64, _request: &mut SignedRequest) -> Result<(), String> {
        Err(
            "AWS signs SNS messages with its own certificate, which hookgate fetches from \
             the message's SigningCertURL; publish to the topic to send a test message"
                .to_string(),
        )
    }
}
