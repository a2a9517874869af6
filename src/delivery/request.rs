//! One delivery attempt over HTTP: the request a destination receives and what its answer
//! amounts to.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT,
};
use hyper::{Method, Request};
use tokio::time::{Instant as Deadline, timeout_at};
use uuid::Uuid;

use super::http_client::{Endpoint, HttpClient};
use super::policy::{Outcome, parse_retry_after};
use super::signing::SigningKey;
use super::tls_failure::describe_tls_failure;

/// The most of a response body kept for the attempt log.
pub const EXCERPT_BYTES: usize = 256;
/// A response body is read (and discarded) up to this much so the connection can be reused;
/// a longer one is cut off and its connection closed.
const DRAIN_BYTES: usize = 64 * 1024;
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
const USER_AGENT_VALUE: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

// Names made once: inserting a header by a `&'static str` name parses and checks the name on
// every insert, ten times per attempt.
static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static EVENT_ID: HeaderName = HeaderName::from_static("x-hookgate-event-id");
static SOURCE: HeaderName = HeaderName::from_static("x-hookgate-source");
static EVENT_TYPE: HeaderName = HeaderName::from_static("x-hookgate-event-type");
static PROVIDER_EVENT_ID: HeaderName = HeaderName::from_static("x-hookgate-provider-event-id");
static ATTEMPT: HeaderName = HeaderName::from_static("x-hookgate-attempt");
static DELIVERY_ID: HeaderName = HeaderName::from_static("x-hookgate-delivery-id");
static WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
static WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
static WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// Everything one attempt sends (where to: [`send`]'s endpoint).
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// A path a transform chose, appended to the destination URL's own.
    pub path: Option<&'a str>,
    /// The event's body, sent unchanged.
    pub body: &'a Bytes,
    /// The event's original Content-Type; `application/octet-stream` when unknown or unusable.
    pub content_type: Option<&'a str>,
    /// Headers a transform added or replaced (lower-case names, never hookgate's own).
    pub headers: &'a [(String, String)],
    /// The hookgate event id: `Idempotency-Key`, `X-Hookgate-Event-Id` and `webhook-id`.
    pub event_id: Uuid,
    pub source_id: &'a str,
    /// The provider's event id (the admin API's `event_id`), sent as
    /// `X-Hookgate-Provider-Event-Id` when it is a valid header value.
    pub provider_event_id: &'a str,
    /// Sent as `X-Hookgate-Event-Type` when known and a valid header value.
    pub event_type: Option<&'a str>,
    /// 1-based attempt number.
    pub attempt: u32,
    pub delivery_id: Uuid,
    /// The destination's key, when its deliveries are signed (Standard Webhooks).
    pub signing_key: Option<&'a SigningKey>,
    /// The whole attempt, connecting and reading the answer included, must fit in this.
    pub timeout: Duration,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// For [`super::RetryPolicy::next_step`]; also gives the status and error to record.
    pub outcome: Outcome,
    /// From sending until the response headers arrived (or the attempt failed).
    pub duration: Duration,
    /// The start of the response body (at most [`EXCERPT_BYTES`], lossy UTF-8), if any.
    pub response_excerpt: Option<String>,
}

/// Makes one attempt to `endpoint`. `now_unix` is the signature's timestamp and the reference
/// for a `Retry-After` date. Never fails: every failure is an [`Outcome`].
pub async fn send(
    client: &HttpClient,
    endpoint: &Endpoint,
    attempt: &Attempt<'_>,
    now_unix: i64,
) -> AttemptResult {
    let started = Instant::now();
    let deadline = Deadline::from_std(started + attempt.timeout);
    let failed = |outcome| AttemptResult {
        outcome,
        duration: started.elapsed(),
        response_excerpt: None,
    };
    let uri = match endpoint.uri_with(attempt.path) {
        Ok(uri) => uri,
        Err(err) => return failed(Outcome::Transport(format!("invalid URL: {err}"))),
    };
    let mut request = Request::new(Full::new(attempt.body.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers(attempt, now_unix);
    // Defaults: a header a transform set is kept.
    let sent = request.headers_mut();
    let defaults = [
        (USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE)),
        (ACCEPT, HeaderValue::from_static("*/*")),
    ];
    for (name, value) in defaults.into_iter().chain(endpoint.credentials().cloned()) {
        sent.entry(name).or_insert(value);
    }
    let response = match timeout_at(deadline, client.pool().request(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => return failed(failure(&err)),
        Err(_) => return failed(Outcome::Timeout),
    };
    let duration = started.elapsed();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, now_unix));
    let outcome = Outcome::Status(response.status().as_u16(), retry_after);
    AttemptResult {
        outcome,
        duration,
        response_excerpt: excerpt(response.into_body(), deadline).await,
    }
}

/// The request headers, which broker destinations carry as message metadata too. A value that
/// cannot travel in a header (a control character in an event type, say) is left out rather
/// than failing the delivery.
pub(super) fn headers(attempt: &Attempt<'_>, now_unix: i64) -> HeaderMap {
    let content_type = attempt
        .content_type
        .and_then(header_value)
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(CONTENT_TYPE, content_type);
    // A transform's headers (Content-Type included) go in before hookgate's own, which
    // therefore always win.
    for (name, value) in attempt.headers {
        if let (Ok(name), Some(value)) =
            (HeaderName::from_bytes(name.as_bytes()), header_value(value))
        {
            headers.insert(name, value);
        }
    }
    let mut put = |name: &HeaderName, value: Option<HeaderValue>| {
        if let Some(value) = value {
            headers.insert(name, value);
        }
    };
    let event_id_value = uuid_value(attempt.event_id);
    put(&IDEMPOTENCY_KEY, event_id_value.clone());
    put(&EVENT_ID, event_id_value.clone());
    put(&SOURCE, header_value(attempt.source_id));
    put(&PROVIDER_EVENT_ID, header_value(attempt.provider_event_id));
    put(&EVENT_TYPE, attempt.event_type.and_then(header_value));
    put(&ATTEMPT, Some(HeaderValue::from(attempt.attempt)));
    put(&DELIVERY_ID, uuid_value(attempt.delivery_id));
    if let Some(key) = attempt.signing_key {
        let signature = key.sign(&attempt.event_id.to_string(), now_unix, attempt.body);
        put(&WEBHOOK_ID, event_id_value);
        put(&WEBHOOK_TIMESTAMP, Some(HeaderValue::from(now_unix)));
        put(&WEBHOOK_SIGNATURE, header_value(&signature));
    }
    headers
}

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_bytes(text.as_bytes()).ok()
}

/// A UUID in its hyphenated lower-case form, written on the stack rather than into a `String`
/// first.
fn uuid_value(id: Uuid) -> Option<HeaderValue> {
    header_value(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
}

/// A transport error as an outcome: a TLS failure named for what failed (see
/// [`describe_tls_failure`]), anything else described by its innermost cause (never the URL,
/// which may carry credentials).
fn failure(err: &hyper_util::client::legacy::Error) -> Outcome {
    if let Some(tls) = describe_tls_failure(err) {
        return Outcome::Tls(tls);
    }
    let mut cause: &dyn std::error::Error = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let detail = cause.to_string();
    if err.is_connect() {
        Outcome::Connect(detail)
    } else {
        Outcome::Transport(detail)
    }
}

/// Reads the start of the body until `deadline`, keeping [`EXCERPT_BYTES`] and reading no
/// more than [`DRAIN_BYTES`]; a read error (the deadline included) ends it early.
async fn excerpt(mut body: Incoming, deadline: Deadline) -> Option<String> {
    let mut kept = Vec::with_capacity(EXCERPT_BYTES);
    let mut read = 0;
    while read < DRAIN_BYTES {
        let Ok(Some(Ok(frame))) = timeout_at(deadline, body.frame()).await else {
            break;
        };
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        read += chunk.len();
        let room = EXCERPT_BYTES - kept.len();
        kept.extend_from_slice(&chunk[..room.min(chunk.len())]);
    }
    (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientTlsConfig;
    use crate::delivery::testing::{Received, listen_once, plain_attempt};
    use tokio::net::TcpListener;

    const NOW: i64 = 1_700_000_000;

    /// A server for one request: it answers `response` and then `tail` repeated until the
    /// client goes away, and hands back the request it got.
    async fn serve_once(
        response: &'static [u8],
        tail: &'static [u8],
    ) -> (Endpoint, tokio::task::JoinHandle<Received>) {
        let (address, server) = listen_once(response, tail).await;
        (
            endpoint(&format!("http://{address}/hooks/in?token=abc")),
            server,
        )
    }

    fn default_client() -> HttpClient {
        HttpClient::new(&ClientTlsConfig::default()).expect("client")
    }

    fn endpoint(url: &str) -> Endpoint {
        default_client().endpoint(url).expect("endpoint")
    }

    async fn send_plain(url: &Endpoint) -> AttemptResult {
        let body = Bytes::from_static(b"{}");
        let client = default_client();
        send(&client, url, &plain_attempt(&body), NOW).await
    }

    /// A plain attempt against a server that answers `response` then `tail` repeatedly.
    async fn answered(response: &'static [u8], tail: &'static [u8]) -> AttemptResult {
        let (url, _server) = serve_once(response, tail).await;
        send_plain(&url).await
    }

    #[tokio::test]
    async fn the_destination_receives_the_exact_body_and_every_header() {
        let (url, server) =
            serve_once(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok", b"").await;
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("key");
        let body = Bytes::from_static(b"{\"a\":1}\r\n\x00\xff binary tail");
        let attempt = Attempt {
            content_type: Some("application/json; charset=utf-8"),
            headers: &[],
            event_type: Some("invoice.paid"),
            attempt: 3,
            signing_key: Some(&key),
            ..plain_attempt(&body)
        };
        let result = send(&default_client(), &url, &attempt, NOW).await;
        assert_eq!(result.outcome, Outcome::Status(202, None));
        assert_eq!(result.response_excerpt.as_deref(), Some("ok"));

        let received = server.await.expect("server");
        let event_id = attempt.event_id.to_string();
        assert_eq!(received.request_line(), "POST /hooks/in?token=abc HTTP/1.1");
        assert_eq!(received.body, body.as_ref());
        let expected = [
            (
                "content-type",
                "application/json; charset=utf-8".to_string(),
            ),
            ("idempotency-key", event_id.clone()),
            ("x-hookgate-event-id", event_id.clone()),
            ("x-hookgate-source", "stripe".to_string()),
            ("x-hookgate-provider-event-id", "evt_1".to_string()),
            ("x-hookgate-event-type", "invoice.paid".to_string()),
            ("x-hookgate-attempt", "3".to_string()),
            ("x-hookgate-delivery-id", attempt.delivery_id.to_string()),
            ("webhook-id", event_id.clone()),
            ("webhook-timestamp", NOW.to_string()),
            ("webhook-signature", key.sign(&event_id, NOW, &body)),
        ];
        for (name, value) in expected {
            assert_eq!(received.header(name), Some(value.as_str()), "{name}");
        }
    }

    #[tokio::test]
    async fn optional_headers_are_left_out_and_the_content_type_defaults() {
        let (url, server) = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", b"").await;
        let body = Bytes::from_static(b"raw");
        let attempt = Attempt {
            content_type: Some("bad\nvalue"),
            headers: &[],
            event_type: Some("line\nbreak"),
            ..plain_attempt(&body)
        };
        let result = send(&default_client(), &url, &attempt, NOW).await;
        assert_eq!(result.outcome, Outcome::Status(200, None));
        assert_eq!(result.response_excerpt, None);

        let received = server.await.expect("server");
        assert_eq!(
            received.header("content-type"),
            Some("application/octet-stream")
        );
        for absent in [
            "x-hookgate-event-type",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        ] {
            assert_eq!(received.header(absent), None, "{absent}");
        }
    }

    #[tokio::test]
    async fn retry_after_comes_back_with_the_status() {
        let result = answered(
            b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-length: 4\r\n\r\nbusy",
            b"",
        )
        .await;
        assert_eq!(
            result.outcome,
            Outcome::Status(503, Some(Duration::from_secs(7)))
        );
        assert_eq!(result.response_excerpt.as_deref(), Some("busy"));
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let result = answered(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\n\r\n",
            b"",
        )
        .await;
        assert_eq!(result.outcome, Outcome::Status(302, None));
    }

    #[tokio::test]
    async fn a_huge_response_yields_only_the_excerpt() {
        let result = answered(
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 1000000000\r\n\r\n",
            &[b'x'; 8192],
        )
        .await;
        assert_eq!(result.outcome, Outcome::Status(500, None));
        assert_eq!(result.response_excerpt, Some("x".repeat(EXCERPT_BYTES)));
    }

    #[tokio::test]
    async fn a_silent_destination_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = endpoint(&format!("http://{}/", listener.local_addr().expect("addr")));
        let _server = tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.expect("accept");
            std::future::pending::<()>().await
        });
        let body = Bytes::from_static(b"{}");
        let timeout = Duration::from_millis(200);
        let attempt = Attempt {
            timeout,
            ..plain_attempt(&body)
        };
        let result = send(&default_client(), &url, &attempt, NOW).await;
        assert_eq!(result.outcome, Outcome::Timeout);
        assert!(result.duration >= timeout, "{:?}", result.duration);
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = endpoint(&format!("http://{}/", listener.local_addr().expect("addr")));
        drop(listener);
        let outcome = send_plain(&url).await.outcome;
        let Outcome::Connect(detail) = &outcome else {
            panic!("expected a connect error, got {outcome:?}");
        };
        assert!(detail.to_lowercase().contains("refused"), "{detail}");
        assert!(!detail.contains("127.0.0.1"), "{detail}");
    }

    #[tokio::test]
    async fn a_transforms_path_goes_after_the_destination_path_and_before_its_query() {
        let (url, server) = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", b"").await;
        let body = Bytes::from_static(b"{}");
        let attempt = Attempt {
            path: Some("/stripe/invoice"),
            ..plain_attempt(&body)
        };
        let result = send(&default_client(), &url, &attempt, NOW).await;
        assert_eq!(result.outcome, Outcome::Status(200, None));
        let received = server.await.expect("server");
        assert_eq!(
            received.request_line(),
            "POST /hooks/in/stripe/invoice?token=abc HTTP/1.1"
        );
    }

    #[tokio::test]
    async fn a_transforms_user_agent_and_authorization_replace_the_defaults() {
        let (address, server) =
            listen_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", b"").await;
        let url = endpoint(&format!("http://hook:secret@{address}/hooks"));
        let body = Bytes::from_static(b"{}");
        let headers = [
            ("user-agent".to_owned(), "billing-sync/2".to_owned()),
            ("authorization".to_owned(), "Bearer t0k3n".to_owned()),
        ];
        let attempt = Attempt {
            headers: &headers,
            ..plain_attempt(&body)
        };
        let result = send(&default_client(), &url, &attempt, NOW).await;
        assert_eq!(result.outcome, Outcome::Status(200, None));
        let received = server.await.expect("server");
        assert_eq!(received.header("user-agent"), Some("billing-sync/2"));
        assert_eq!(received.header("authorization"), Some("Bearer t0k3n"));
        assert_eq!(received.header("accept"), Some("*/*"));
    }
}
