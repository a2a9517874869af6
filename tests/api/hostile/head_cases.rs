//! Hostile heads: size, header grammar, bytes that are not UTF-8, request targets and source
//! ids, methods and versions. Statuses follow RFC 9110/9112 (and RFC 6585 for 431) and the
//! contract; `Http` marks answers the HTTP layer gives before hookgate runs.

use super::Target;
use super::table::{Case, Expect::*, Send};
use crate::helpers::{secrets, unique_body};
use crate::independent_sign as sign;
use crate::raw_http::RawRequest;

pub fn cases(t: &Target) -> Vec<Case> {
    let mut cases = size_and_grammar(t);
    cases.extend(targets_and_ids(t));
    cases.extend(methods_and_versions(t));
    cases
}

fn size_and_grammar(t: &Target) -> Vec<Case> {
    let signature = |value: &[u8]| {
        let mut v = b"sha256=".to_vec();
        v.extend_from_slice(value);
        t.unsigned("github").header("X-Hub-Signature-256", v)
    };
    let thousand = (0..1000).fold(t.github(), |r, i| r.header(format!("X-Filler-{i}"), "x"));
    vec![
        Case::new(
            "control: a correctly signed GitHub webhook",
            "the baseline every refusal is measured against",
            Send::Bytes(t.bytes(&t.github())),
            &[Stored(202)],
        ),
        Case::new(
            "a 1 MB header",
            "the head exceeds what the listener buffers for one: 431 (RFC 6585), then closed",
            Send::Bytes(t.bytes(&t.github().header("X-Padding", "a".repeat(1 << 20)))),
            &[Http(431), Closed],
        ),
        Case::new(
            "1,000 headers on a correctly signed request",
            "more fields than the parser takes: 431 (RFC 6585) even with a valid signature",
            Send::Bytes(t.bytes(&thousand)),
            &[Http(431), Closed],
        ),
        Case::new(
            "NUL in the signature header",
            "NUL is never allowed in a field value (RFC 9110 §5.5): the message is rejected",
            Send::Bytes(t.bytes(&signature(b"ab\0cd"))),
            &[Http(400), Closed],
        ),
        Case::new(
            "bare CR in the signature header",
            "CR only ends a line together with LF (RFC 9112 §2.2): the message is rejected",
            Send::Bytes(t.bytes(&signature(b"ab\rcd"))),
            &[Http(400), Closed],
        ),
        Case::new(
            "obsolete line folding in the signature header",
            "obs-fold is rejected with 400 (RFC 9112 §5.2)",
            Send::Bytes(t.bytes(&signature(b"ab\r\n cd"))),
            &[Http(400), Closed],
        ),
        Case::new(
            "whitespace between header name and colon",
            "RFC 9112 §5.1: a server MUST reject it with 400",
            Send::Bytes(
                t.bytes(
                    &t.unsigned("github")
                        .header("X-Hub-Signature-256 ", "sha256=00"),
                ),
            ),
            &[Http(400), Closed],
        ),
        Case::new(
            "non-UTF-8 bytes in the signature header",
            "obs-text is legal HTTP, so hookgate sees it: not a hex signature, 401",
            Send::Bytes(t.bytes(&signature(b"\xff\xfe\xfd"))),
            &[Problem(401)],
        ),
        Case::new(
            "non-UTF-8 bytes in an unrelated header of a signed request",
            "opaque bytes in an unsigned header change nothing about authenticity: stored",
            Send::Bytes(t.bytes(&t.github().header("X-Note", b"caf\xe9 \xff"))),
            &[Stored(202)],
        ),
        Case::new(
            "non-UTF-8 bytes in a header name",
            "a field name is a token (RFC 9110 §5.1): 400",
            Send::Bytes(t.bytes(&t.github().header(b"X-Caf\xe9", "1"))),
            &[Http(400), Closed],
        ),
        Case::new(
            "a duplicated signature header, the valid one first",
            "a singleton field sent twice is ambiguous (RFC 9110 §5.3): refused, not resolved by order",
            Send::Bytes(t.bytes(&duplicated(t.github(), "X-Hub-Signature-256", true))),
            &[Problem(401)],
        ),
        Case::new(
            "a duplicated signature header, the valid one second",
            "as above: which copy a verifier reads must not decide the outcome",
            Send::Bytes(t.bytes(&duplicated(t.github(), "X-Hub-Signature-256", false))),
            &[Problem(401)],
        ),
        Case::new(
            "a duplicated Stripe timestamp pair signed for the first",
            "two t= values: the signed time is ambiguous, so refused",
            Send::Bytes(t.bytes(&stripe_with_second_timestamp())),
            &[Problem(401)],
        ),
        Case::new(
            "an empty signature header",
            "no signature: 401",
            Send::Bytes(t.bytes(&t.unsigned("github").header("X-Hub-Signature-256", ""))),
            &[Problem(401)],
        ),
    ]
}

/// `request` with its `name` header sent twice: the valid value and a forged one, the valid
/// one first or second.
fn duplicated(mut request: RawRequest, name: &str, valid_first: bool) -> RawRequest {
    let at = request
        .headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .expect("the header to duplicate");
    let forged = (
        name.as_bytes().to_vec(),
        format!("sha256={}", "0".repeat(64)).into_bytes(),
    );
    request
        .headers
        .insert(at + usize::from(valid_first), forged);
    request
}

/// A Stripe webhook signed for `t`, whose header names a second, different `t` after it.
fn stripe_with_second_timestamp() -> RawRequest {
    let body = unique_body();
    let now = crate::helpers::now();
    let signed = sign::stripe(secrets::STRIPE, body.as_bytes(), now);
    let mut request = RawRequest::post("/webhooks/stripe")
        .headers(&signed)
        .body(body);
    for (name, value) in &mut request.headers {
        if name.eq_ignore_ascii_case(b"stripe-signature") {
            value.extend_from_slice(format!(",t={}", now - 1).as_bytes());
        }
    }
    request
}

fn targets_and_ids(t: &Target) -> Vec<Case> {
    let to = |target: &[u8]| {
        let mut request = t.unsigned("github");
        request.target = target.to_vec();
        request
    };
    let long_id = format!("/webhooks/{}", "a".repeat(10_000));
    let mut encoded = t.github();
    encoded.target = b"/webhooks/%67ithub".to_vec();
    let mut absolute = t.github();
    absolute.target = format!("http://{}/webhooks/github", t.host).into_bytes();
    let mut wrong_case = t.github();
    wrong_case.target = b"/webhooks/GitHub".to_vec();
    let query = format!("/webhooks/github?{}", "q=1&".repeat(15_000));
    vec![
        Case::new(
            "raw non-UTF-8 bytes in the path",
            "a request target is ASCII (RFC 3986): 400 from the HTTP layer",
            Send::Bytes(t.bytes(&to(b"/webhooks/\xff\xfe"))),
            &[Http(400), Closed],
        ),
        Case::new(
            "a percent-encoded non-UTF-8 source id",
            "no source has that id: 404",
            Send::Bytes(t.bytes(&to(b"/webhooks/%ff%fe"))),
            &[Problem(404)],
        ),
        Case::new(
            "..%2f in the source id",
            "an encoded slash stays inside the one id segment; no such source: 404",
            Send::Bytes(t.bytes(&to(b"/webhooks/..%2f..%2fadmin%2fevents"))),
            &[Problem(404)],
        ),
        Case::new(
            "dot segments in the path",
            "no route matches; never another listener's route: 404",
            Send::Bytes(t.bytes(&to(b"/webhooks/../admin/events"))),
            &[Problem(404)],
        ),
        Case::new(
            "an encoded dot-dot source id",
            "%2e%2e is the id \"..\"; no such source: 404",
            Send::Bytes(t.bytes(&to(b"/webhooks/%2e%2e"))),
            &[Problem(404)],
        ),
        Case::new(
            "a 10,000-character source id",
            "no such source: 404",
            Send::Bytes(t.bytes(&to(long_id.as_bytes()))),
            &[Problem(404)],
        ),
        Case::new(
            "an encoded NUL after a source id",
            "\"github\\0\" is not \"github\": 404",
            Send::Bytes(t.bytes(&to(b"/webhooks/github%00"))),
            &[Problem(404)],
        ),
        Case::new(
            "a source id in another case, correctly signed",
            "source ids are exact: 404",
            Send::Bytes(t.bytes(&wrong_case)),
            &[Problem(404)],
        ),
        Case::new(
            "a percent-encoded unreserved character in a known source id, signed",
            "%67ithub and github are the same URI (RFC 3986 §6.2.2.2): stored",
            Send::Bytes(t.bytes(&encoded)),
            &[Stored(202)],
        ),
        Case::new(
            "an absolute-form request target, signed",
            "servers MUST accept absolute-form (RFC 9112 §3.2.2): stored",
            Send::Bytes(t.bytes(&absolute)),
            &[Stored(202)],
        ),
        Case::new(
            "a 60 KB query string, unsigned",
            "within the head limit; unsigned: 401",
            Send::Bytes(t.bytes(&to(query.as_bytes()))),
            &[Problem(401)],
        ),
    ]
}

fn methods_and_versions(t: &Target) -> Vec<Case> {
    let mut put = t.github();
    put.method = "PUT";
    let mut get = t.unsigned("github");
    get.method = "GET";
    get.body.clear();
    let mut http10 = t.github();
    http10.version = "HTTP/1.0";
    let http10_no_length = {
        let mut request = t.github();
        request.version = "HTTP/1.0";
        let mut bytes = request.head_without_length(&t.host);
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&request.body);
        bytes
    };
    let no_host = {
        let request = t.github();
        let with_host = String::from_utf8(request.bytes(&t.host)).unwrap();
        with_host.replacen(&format!("Host: {}\r\n", t.host), "", 1)
    };
    let two_hosts = t.github().header("Host", "evil.example");
    vec![
        Case::new(
            "PUT on a webhook path, signed",
            "the resource takes POST (and GET handshakes): 405 with Allow (RFC 9110 §15.5.6)",
            Send::Bytes(t.bytes(&put)),
            &[Problem(405)],
        ),
        Case::new(
            "GET on a source without a GET handshake",
            "the contract: 405",
            Send::Bytes(t.bytes(&get)),
            &[Problem(405)],
        ),
        Case::new(
            "a garbage request line",
            "not HTTP: 400",
            Send::Bytes(b"HELLO THERE\r\n\r\n".to_vec()),
            &[Http(400), Closed],
        ),
        Case::new(
            "HTTP/1.0 with Content-Length, signed",
            "HTTP/1.0 is still HTTP: stored, and the connection closed after (no keep-alive)",
            Send::Bytes(t.bytes(&http10)),
            &[Stored(202), Closed],
        ),
        Case::new(
            "HTTP/1.0 POST without Content-Length",
            "an HTTP/1.0 request body needs a Content-Length (RFC 1945 §7.2.2): 400",
            Send::BytesThenEof(http10_no_length),
            &[Http(400), Closed],
        ),
        Case::new(
            "HTTP/1.1 without Host",
            "RFC 9112 §3.2: a server MUST answer 400",
            Send::Bytes(no_host.into_bytes()),
            &[Http(400), Closed],
        ),
        Case::new(
            "two Host headers",
            "RFC 9112 §3.2: more than one Host is a 400",
            Send::Bytes(t.bytes(&two_hosts)),
            &[Http(400), Closed],
        ),
    ]
}
