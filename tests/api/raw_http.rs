//! HTTP/1.x as bytes over a `TcpStream`, for what no client library sends: bytes that break the
//! grammar, conflicting framing, pipelined requests, a body held back until `100 Continue`.
//! Answers are parsed with `httparse`; "the server closed the connection without answering"
//! is an answer of its own.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

/// How long one answer may take before the server counts as silent.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// A request written field by field; [`RawRequest::bytes`] adds `Host` and `Content-Length`.
#[derive(Clone)]
pub struct RawRequest {
    pub method: &'static str,
    pub target: Vec<u8>,
    pub version: &'static str,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// `POST target HTTP/1.1`.
    pub fn post(target: impl Into<Vec<u8>>) -> RawRequest {
        RawRequest {
            method: "POST",
            target: target.into(),
            version: "HTTP/1.1",
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> RawRequest {
        self.headers
            .push((name.as_ref().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// Adds each pair, as the senders of `independent_sign` return them.
    pub fn headers(self, pairs: &[(String, String)]) -> RawRequest {
        pairs
            .iter()
            .fold(self, |request, (name, value)| request.header(name, value))
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RawRequest {
        self.body = body.into();
        self
    }

    /// The request on the wire: the head with `Host: host` first and a `Content-Length` of the
    /// body last, then the body.
    pub fn bytes(&self, host: &str) -> Vec<u8> {
        let mut head = self.head_without_length(host);
        head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        head.extend_from_slice(&self.body);
        head
    }

    /// The request line, `Host` and the headers, each line ended; no blank line yet.
    pub fn head_without_length(&self, host: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(256 + self.body.len());
        bytes.extend_from_slice(self.method.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(&self.target);
        bytes.extend_from_slice(format!(" {}\r\nHost: {host}\r\n", self.version).as_bytes());
        for (name, value) in &self.headers {
            bytes.extend_from_slice(name);
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes
    }
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// `1xx` responses that came before this one (`100 Continue`).
    pub interim: Vec<u16>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// An RFC 9457 body as hookgate writes it: the media type, and a `code` and `status` that
    /// agree with the response.
    pub fn is_hookgate_problem(&self) -> bool {
        let problem: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        self.header("content-type") == Some(b"application/problem+json")
            && problem.is_some_and(|p| p["status"] == self.status && p["code"].is_string())
    }

    /// Whether the server said it closes the connection after this response.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"close"))
    }
}

/// What came back for a request.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(RawResponse),
    /// The server closed (or reset) the connection before a complete response.
    Closed,
    /// Nothing within [`ANSWER_WITHIN`], the connection still open.
    Silent,
}

impl Answer {
    pub fn status(&self) -> Option<u16> {
        match self {
            Answer::Response(response) => Some(response.status),
            _ => None,
        }
    }
}

/// The reading side of a connection, with what was read but not yet parsed.
pub struct Reader {
    half: OwnedReadHalf,
    buffered: Vec<u8>,
    closed: bool,
}

impl Reader {
    pub fn new(half: OwnedReadHalf) -> Reader {
        Reader {
            half,
            buffered: Vec::new(),
            closed: false,
        }
    }

    /// The next final response (interim `1xx` ones are collected into it), `Closed` when the
    /// connection ends first, `Silent` when nothing complete arrives in time.
    pub async fn answer(&mut self) -> Answer {
        let mut interim = Vec::new();
        loop {
            let Some(response) = self.response().await else {
                return match self.closed {
                    true => Answer::Closed,
                    false => Answer::Silent,
                };
            };
            if (100..200).contains(&response.status) {
                interim.push(response.status);
                continue;
            }
            return Answer::Response(RawResponse {
                interim,
                ..response
            });
        }
    }

    /// Only the next response, interim or final.
    pub async fn response(&mut self) -> Option<RawResponse> {
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        loop {
            if let Some(response) = self.parse() {
                return Some(response);
            }
            if self.closed {
                return None;
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.half.read(&mut chunk)).await {
                Err(_) => return None,
                Ok(Ok(0) | Err(_)) => self.closed = true,
                Ok(Ok(n)) => self.buffered.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// A complete response from the front of the buffer, removed from it. Bodies are framed by
    /// `Content-Length` (what hookgate's listener sends for every answer it writes).
    fn parse(&mut self) -> Option<RawResponse> {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut fields);
        let head_len = match parsed.parse(&self.buffered) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return None,
            Err(err) => panic!("the server answered something that is not HTTP: {err}"),
        };
        let status = parsed.code.expect("a complete head has a status");
        let headers: Vec<(String, Vec<u8>)> = parsed
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| {
                std::str::from_utf8(v).unwrap().trim().parse().unwrap()
            });
        if self.buffered.len() < head_len + length {
            return None;
        }
        let body = self.buffered[head_len..head_len + length].to_vec();
        self.buffered.drain(..head_len + length);
        Some(RawResponse {
            status,
            interim: Vec::new(),
            headers,
            body,
        })
    }
}

/// A client connection for requests one after another (keep-alive).
pub struct RawConnection {
    writer: tokio::net::tcp::OwnedWriteHalf,
    pub reader: Reader,
}

impl RawConnection {
    pub async fn open(address: &str) -> RawConnection {
        let stream = TcpStream::connect(address).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (read, writer) = stream.into_split();
        RawConnection {
            writer,
            reader: Reader::new(read),
        }
    }

    /// Writes `bytes`; a server that already closed is seen by the next read.
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes).await;
    }

    /// Sends a request and reads its answer.
    pub async fn exchange(&mut self, bytes: &[u8]) -> Answer {
        self.send(bytes).await;
        self.reader.answer().await
    }
}

/// Sends `bytes` on a fresh connection while reading (so a server that answers and closes
/// before taking everything, as with a head over its limit, is seen), then shuts the write
/// side when `half_close`; answers up to `count` answers, stopping at the first that is not a
/// response.
pub async fn send_and_read(
    address: &str,
    bytes: Vec<u8>,
    count: usize,
    half_close: bool,
) -> Vec<Answer> {
    let stream = TcpStream::connect(address).await.expect("connect");
    let (read, mut write) = stream.into_split();
    let writing = tokio::spawn(async move {
        if write.write_all(&bytes).await.is_ok() && half_close {
            let _ = write.shutdown().await;
        }
        // Keep the write half (and so the connection) open until the reading is done.
        std::future::pending::<()>().await;
        drop(write);
    });
    let mut reader = Reader::new(read);
    let mut answers = Vec::new();
    while answers.len() < count {
        let answer = reader.answer().await;
        let last = !matches!(answer, Answer::Response(_));
        answers.push(answer);
        if last {
            break;
        }
    }
    writing.abort();
    answers
}
