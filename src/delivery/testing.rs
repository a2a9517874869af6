//! What the delivery client's tests share: a one-request HTTP server that shows the request
//! exactly as it arrived on the wire (which a real HTTP server library would normalise), and a
//! plain attempt to send it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::request::Attempt;

/// A request as it arrived on the wire.
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }

    /// Every value of header `name`.
    fn headers(&self, name: &str) -> Vec<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let values = self.headers(name);
        assert!(values.len() <= 1, "{name} sent {} times", values.len());
        values.first().copied()
    }
}

/// Reads one request with a Content-Length body.
async fn read_request(socket: &mut TcpStream) -> Received {
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = socket.read(&mut buf).await.expect("read request");
        assert!(n > 0, "connection closed before the request head ended");
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(data[..head_end].to_vec()).expect("ASCII head");
    let mut received = Received {
        head,
        body: data[head_end + 4..].to_vec(),
    };
    let length: usize = received
        .header("content-length")
        .expect("content-length")
        .parse()
        .expect("numeric content-length");
    while received.body.len() < length {
        let n = socket.read(&mut buf).await.expect("read body");
        assert!(n > 0, "connection closed before the body ended");
        received.body.extend_from_slice(&buf[..n]);
    }
    received
}

/// A server for one request on an address of its own: it answers `response` and then `tail`
/// repeated until the client goes away, and hands back the request it got.
pub async fn listen_once(
    response: &'static [u8],
    tail: &'static [u8],
) -> (SocketAddr, JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let received = read_request(&mut socket).await;
        socket.write_all(response).await.expect("write response");
        while !tail.is_empty() && socket.write_all(tail).await.is_ok() {}
        received
    });
    (address, server)
}

/// An attempt with nothing optional: no path, headers, event type or signature.
pub fn plain_attempt(body: &Bytes) -> Attempt<'_> {
    Attempt {
        path: None,
        body,
        content_type: None,
        headers: &[],
        event_id: Uuid::now_v7(),
        source_id: "stripe",
        provider_event_id: "evt_1",
        event_type: None,
        attempt: 1,
        delivery_id: Uuid::now_v7(),
        signing_key: None,
        timeout: Duration::from_secs(10),
    }
}
