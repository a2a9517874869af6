//! A TCP gate in front of a sink, for destination outages. It forwards to the sink, answers
//! `503` itself, refuses connections (nothing listens on its port) or takes connections and
//! never answers. Every change cuts the connections it holds, so a connection hookgate pooled
//! before an outage cannot slip past it.

use crate::sink::Sink;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Passes every connection through to the sink.
    Forward,
    /// Answers every request `503` and closes the connection.
    Unavailable,
    /// Listens on nothing: connections are refused.
    Refuse,
    /// Accepts connections and never answers.
    Blackhole,
}

pub struct Gate {
    /// The sink's URL with the gate's port.
    pub url: String,
    address: SocketAddr,
    sink: SocketAddr,
    /// The running mode's accept loop and what stops it with every connection it took.
    running: tokio::sync::Mutex<Option<(CancellationToken, JoinHandle<()>)>>,
}

impl Gate {
    /// A gate forwarding to `sink`.
    pub async fn start(sink: &Sink) -> Gate {
        let sink_address = sink.url.trim_start_matches("http://");
        let sink_address: SocketAddr = sink_address[..sink_address.find('/').unwrap()]
            .parse()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let gate = Gate {
            url: sink
                .url
                .replace(&sink_address.to_string(), &address.to_string()),
            address,
            sink: sink_address,
            running: Default::default(),
        };
        gate.run(listener, Mode::Forward).await;
        gate
    }

    /// Switches to `mode`, cutting every connection taken so far.
    pub async fn set(&self, mode: Mode) {
        if let Some((stop, task)) = self.running.lock().await.take() {
            stop.cancel();
            task.await.unwrap();
        }
        if mode != Mode::Refuse {
            // The port was ours a moment ago; SO_REUSEADDR lets it be bound again at once.
            let listener = TcpListener::bind(self.address).await.unwrap();
            self.run(listener, mode).await;
        }
    }

    async fn run(&self, listener: TcpListener, mode: Mode) {
        let stop = CancellationToken::new();
        let sink = self.sink;
        let accepting = stop.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = accepting.cancelled() => break,
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let stop = accepting.clone();
                        connections.spawn(async move {
                            tokio::select! {
                                _ = stop.cancelled() => {}
                                _ = serve(client, mode, sink) => {}
                            }
                        });
                    }
                }
            }
            drop(listener);
            connections.shutdown().await;
        });
        *self.running.lock().await = Some((stop, task));
    }
}

async fn serve(mut client: TcpStream, mode: Mode, sink: SocketAddr) {
    match mode {
        Mode::Forward => {
            if let Ok(mut upstream) = TcpStream::connect(sink).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        }
        Mode::Unavailable => {
            read_request(&mut client).await;
            let _ = client
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
        Mode::Blackhole => std::future::pending().await,
        Mode::Refuse => unreachable!("nothing is accepted while refusing"),
    }
}

/// Reads one request's head and its `Content-Length` body (so closing after the answer does
/// not reset a connection whose request was not read).
async fn read_request(client: &mut TcpStream) {
    let mut request = Vec::new();
    let mut chunk = [0; 8192];
    loop {
        let Ok(read) = client.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        request.extend_from_slice(&chunk[..read]);
        let Some(head_end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap_or(0));
        if request.len() >= head_end + 4 + length {
            return;
        }
    }
}
