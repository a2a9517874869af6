//! Hostile framing and bodies: chunked bodies, Content-Length that lies, conflicting framing,
//! pipelining, `Expect: 100-continue`, content types, deeply nested JSON, and correctly signed
//! requests that must still be refused (wrong source, stale or absurd timestamps).

use super::Target;
use super::table::{Case, Expect::*, Send};
use crate::helpers::{now, secrets, unique_body};
use crate::independent_sign as sign;
use crate::raw_http::RawRequest;

/// Bigger than the test config's `max_body_bytes` (64 KiB).
const OVER_LIMIT: usize = 80 * 1024;

pub fn cases(t: &Target) -> Vec<Case> {
    let mut cases = chunked(t);
    cases.extend(lying_lengths(t));
    cases.extend(pipelining_and_expect(t));
    cases.extend(contents(t));
    cases
}

/// The head of `request` with `Transfer-Encoding: chunked`, then `chunks`, the last chunk and
/// the `trailer` lines.
fn chunked_bytes(t: &Target, request: &RawRequest, chunks: &[&[u8]], trailer: &str) -> Vec<u8> {
    let mut bytes = request.head_without_length(&t.host);
    bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
    for chunk in chunks {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
    bytes
}

/// The head of `request` followed by `rest` verbatim: framing written by hand.
fn head_then(t: &Target, request: &RawRequest, rest: &str) -> Vec<u8> {
    let mut bytes = request.head_without_length(&t.host);
    bytes.extend_from_slice(rest.as_bytes());
    bytes
}

fn chunked(t: &Target) -> Vec<Case> {
    let signed = t.github();
    let (first, second) = signed.body.split_at(signed.body.len() / 2);
    let within = chunked_bytes(t, &signed, &[first, second], "");
    let block = vec![b' '; 16 * 1024];
    let over = chunked_bytes(t, &t.unsigned("github"), &[block.as_slice(); 5], "");
    let unsigned = t.unsigned("github");
    let bad_size = head_then(
        t,
        &unsigned,
        "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    );
    let overflow = head_then(
        t,
        &unsigned,
        "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    );
    let body = unique_body();
    let headers = sign::github(
        secrets::GITHUB,
        body.as_bytes(),
        &uuid::Uuid::now_v7().to_string(),
    );
    let (signature, others): (Vec<_>, Vec<_>) = headers
        .into_iter()
        .partition(|(name, _)| name == "X-Hub-Signature-256");
    let request = RawRequest::post("/webhooks/github").headers(&others);
    let trailer = format!("{}: {}\r\n", signature[0].0, signature[0].1);
    let in_trailer = chunked_bytes(t, &request, &[body.as_bytes()], &trailer);
    vec![
        Case::new(
            "a chunked body within the limit, signed",
            "chunked is HTTP/1.1's other framing: stored",
            Send::Bytes(within),
            &[Stored(202)],
        ),
        Case::new(
            "a chunked body over the limit",
            "no Content-Length to refuse early: 413 as soon as the limit is crossed",
            Send::Bytes(over),
            &[Problem(413)],
        ),
        Case::new(
            "a chunk size that is not hex",
            "broken framing: 400, and the connection cannot carry another request",
            Send::Bytes(bad_size),
            &[Problem(400)],
        ),
        Case::new(
            "a chunk size that overflows",
            "broken framing: 400",
            Send::Bytes(overflow),
            &[Problem(400)],
        ),
        Case::new(
            "the signature only in a chunked trailer",
            "trailers are not headers and nothing signed may hide there: 401",
            Send::Bytes(in_trailer),
            &[Problem(401)],
        ),
    ]
}

fn lying_lengths(t: &Target) -> Vec<Case> {
    let unsigned = t.unsigned("github");
    let declared_over = head_then(
        t,
        &unsigned,
        &format!("Content-Length: {OVER_LIMIT}0\r\n\r\n{{}}"),
    );
    let longer = head_then(t, &unsigned, "Content-Length: 100\r\n\r\n{\"a\":1}");
    let signed = t.github();
    let half = signed.body.len() / 2;
    let mut shorter = signed.head_without_length(&t.host);
    shorter.extend_from_slice(format!("Content-Length: {half}\r\n\r\n").as_bytes());
    shorter.extend_from_slice(&signed.body);
    let mut http10 = t.github();
    http10.version = "HTTP/1.0";
    let framing = |extra: &str| head_then(t, &t.unsigned("github"), &format!("{extra}\r\n{{}}"));
    vec![
        Case::new(
            "Content-Length over the limit",
            "refused from the header alone, before the body is read: 413",
            Send::Bytes(declared_over),
            &[Problem(413)],
        ),
        Case::new(
            "Content-Length longer than the body, then the client stops sending",
            "the body never completes: not stored; 400 (RFC 9112 §8 lets a server answer before closing)",
            Send::BytesThenEof(longer.clone()),
            &[Problem(400)],
        ),
        Case::new(
            "Content-Length longer than the body, connection held open",
            "the body does not arrive within request_timeout_ms: 408 and closed",
            Send::Bytes(longer),
            &[Problem(408), Closed],
        ),
        Case::new(
            "Content-Length shorter than the signed body",
            "the first request is the truncated body (signature mismatch: 401); the rest is not a request: 400",
            Send::Bytes(shorter),
            &[Problem(401), Http(400), Closed],
        ),
        Case::new(
            "two different Content-Lengths",
            "unrecoverable framing error (RFC 9112 §6.3): 400 and closed",
            Send::Bytes(framing("Content-Length: 2\r\nContent-Length: 3\r\n")),
            &[Http(400), Closed],
        ),
        Case::new(
            "Content-Length and chunked together",
            "a smuggling shape (RFC 9112 §6.1): refused, and the connection closed",
            Send::Bytes(framing(
                "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
            )),
            &[Http(400), Closed],
        ),
        Case::new(
            "Transfer-Encoding without chunked last",
            "the length cannot be known: MUST answer 400 and close (RFC 9112 §6.3)",
            Send::Bytes(framing("Transfer-Encoding: gzip\r\n")),
            &[Http(400), Closed],
        ),
        Case::new(
            "a negative Content-Length",
            "not a length: 400",
            Send::Bytes(framing("Content-Length: -1\r\n")),
            &[Http(400), Closed],
        ),
        Case::new(
            "a Content-Length beyond 64 bits",
            "not a length that can be honoured: 400",
            Send::Bytes(framing("Content-Length: 184467440737095516160\r\n")),
            &[Http(400), Closed],
        ),
        Case::new(
            "Transfer-Encoding in HTTP/1.0",
            "framing is faulty in HTTP/1.0 (RFC 9112 §6.1): 400",
            Send::Bytes({
                let mut request = t.unsigned("github");
                request.version = "HTTP/1.0";
                head_then(
                    t,
                    &request,
                    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                )
            }),
            &[Http(400), Closed],
        ),
    ]
}

fn pipelining_and_expect(t: &Target) -> Vec<Case> {
    let pipelined = [t.github(), t.unsigned("github"), t.github()]
        .iter()
        .flat_map(|request| t.bytes(request))
        .collect();
    let twice = t.bytes(&t.github()).repeat(2);
    let continued = t.github().header("Expect", "100-continue");
    let head_len = t.bytes(&continued).len() - continued.body.len();
    let mut head = t.bytes(&continued);
    let body = head.split_off(head_len);
    let declared_over = head_then(
        t,
        &t.unsigned("github").header("Expect", "100-continue"),
        &format!("Content-Length: {OVER_LIMIT}\r\n\r\n"),
    );
    let mut unknown = t.unsigned("github").header("Expect", "100-continue");
    unknown.target = b"/webhooks/nowhere".to_vec();
    let unknown = head_then(t, &unknown, "Content-Length: 2\r\n\r\n");
    vec![
        Case::new(
            "three pipelined requests: signed, unsigned, signed",
            "answered in order (RFC 9112 §9.3.2), each on its own merits",
            Send::Bytes(pipelined),
            &[Stored(202), Problem(401), Stored(202)],
        ),
        Case::new(
            "the same signed request pipelined twice",
            "the second is the same event: a duplicate, stored once",
            Send::Bytes(twice),
            &[Stored(202), Duplicate],
        ),
        Case::new(
            "Expect: 100-continue, signed",
            "100 Continue, then the body, then stored",
            Send::AfterContinue { head, body },
            &[Stored(202)],
        ),
        Case::new(
            "Expect: 100-continue with a Content-Length over the limit",
            "413 from the head alone; the body need never be sent",
            Send::Bytes(declared_over),
            &[Problem(413)],
        ),
        Case::new(
            "Expect: 100-continue to an unknown source",
            "404 from the head alone",
            Send::Bytes(unknown),
            &[Problem(404)],
        ),
    ]
}

fn contents(t: &Target) -> Vec<Case> {
    let stripe = |body: &[u8], at: i64| {
        RawRequest::post("/webhooks/stripe")
            .headers(&sign::stripe(secrets::STRIPE, body, at))
            .body(body)
    };
    let json = unique_body();
    let as_form = stripe(json.as_bytes(), now());
    let as_form = {
        let mut request = as_form;
        for (name, value) in &mut request.headers {
            if name.eq_ignore_ascii_case(b"content-type") {
                *value = b"application/x-www-form-urlencoded".to_vec();
            }
        }
        request
    };
    let mut no_type = t.github();
    no_type
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case(b"content-type"));
    let odd_type = t.github().header("Content-Type", b"text/\xff\xfe");
    // 60 KB: within the 64 KiB limit.
    let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let binary = [b"\0\xff\xfe binary \0".as_slice(), unique_body().as_bytes()].concat();
    let mut misdirected = stripe(unique_body().as_bytes(), now());
    misdirected.target = b"/webhooks/github".to_vec();
    vec![
        Case::new(
            "signed JSON labelled as a form",
            "Content-Type is not signed; the signature proves the bytes: stored as received",
            Send::Bytes(t.bytes(&as_form)),
            &[Stored(202)],
        ),
        Case::new(
            "a signed request without Content-Type",
            "as above: stored",
            Send::Bytes(t.bytes(&no_type)),
            &[Stored(202)],
        ),
        Case::new(
            "a signed request with a non-UTF-8 Content-Type (sent twice)",
            "an unreadable, repeated unsigned header changes nothing: stored",
            Send::Bytes(t.bytes(&odd_type)),
            &[Stored(202)],
        ),
        Case::new(
            "an unsigned multipart body",
            "unsigned: 401, whatever the type",
            Send::Bytes(
                t.bytes(
                    &t.unsigned("github")
                        .header("Content-Type", "multipart/form-data; boundary=x"),
                ),
            ),
            &[Problem(401)],
        ),
        Case::new(
            "10,000-deep JSON, signed, where the id is read at a JSON pointer",
            "no id at /id in a body too deep to parse: the body's hash is the id; stored",
            Send::Bytes(t.bytes(&stripe(deep.as_bytes(), now()))),
            &[Stored(202)],
        ),
        Case::new(
            "10,000-deep JSON, unsigned",
            "401 before any parsing",
            Send::Bytes(t.bytes(&t.unsigned("stripe").body(deep))),
            &[Problem(401)],
        ),
        Case::new(
            "a signed body with NUL and invalid UTF-8",
            "bodies are bytes: stored exactly",
            Send::Bytes(t.bytes(&t.github_with(&binary))),
            &[Stored(202)],
        ),
        Case::new(
            "a Stripe request sent to the GitHub source",
            "signed, but not as this source's provider signs: 401",
            Send::Bytes(t.bytes(&misdirected)),
            &[Problem(401)],
        ),
        Case::new(
            "a Stripe signature an hour old",
            "outside the 300 s tolerance: 401 (replay protection)",
            Send::Bytes(t.bytes(&stripe(unique_body().as_bytes(), now() - 3600))),
            &[Problem(401)],
        ),
        Case::new(
            "a Stripe signature an hour ahead",
            "outside the tolerance in the other direction: 401",
            Send::Bytes(t.bytes(&stripe(unique_body().as_bytes(), now() + 3600))),
            &[Problem(401)],
        ),
        Case::new(
            "a Stripe timestamp of 20 digits, correctly signed",
            "no such time (beyond i64): 401, never an overflow",
            Send::Bytes(t.bytes(&stripe_with_raw_timestamp("99999999999999999999"))),
            &[Problem(401)],
        ),
    ]
}

/// A Stripe request whose `t` is `raw`, correctly signed.
fn stripe_with_raw_timestamp(raw: &str) -> RawRequest {
    let body = unique_body();
    RawRequest::post("/webhooks/stripe")
        .headers(&sign::stripe_at(secrets::STRIPE, body.as_bytes(), raw))
        .body(body)
}
