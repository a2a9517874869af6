//! hookgate behind an egress proxy, configured as curl is: deliveries go through the proxy
//! named by `HTTPS_PROXY` / `HTTP_PROXY` (or their lowercase forms), and hosts listed in
//! `NO_PROXY` bypass it. hookgate runs as a process of its own, since the variables are read
//! from its environment. The proxy is the test's own: it tunnels `CONNECT host:port` (HTTPS)
//! and passes absolute-form requests (`POST http://host:port/…`, plain HTTP) on to their host,
//! recording what each connection asked for.

use crate::certs::TestCa;
use crate::durability::post_github;
use crate::helpers::*;
use crate::https_delivery::{SINK_NAMES, tls_setting};
use crate::process::ServeProcess;
use crate::sink::{Reply, Sink, SinkTls};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A forward proxy on 127.0.0.1, until dropped.
struct Proxy {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let recorded = asked.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, recorded.clone()));
            }
        });
        Proxy { url, asked, task }
    }

    /// The method and target of the first request of every connection, e.g.
    /// `CONNECT 127.0.0.1:4433` or `POST http://127.0.0.1:8080/hook`.
    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads a client's first request head, connects where it asks, and relays the bytes both
/// ways until either side closes.
async fn relay(mut client: TcpStream, asked: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0; 4096];
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    };
    let request_line = String::from_utf8_lossy(&head[..end])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut words = request_line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    asked.lock().unwrap().push(format!("{method} {target}"));
    let mut upstream = if method == "CONNECT" {
        let mut upstream = TcpStream::connect(target).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        upstream.write_all(&head[end..]).await?;
        upstream
    } else {
        // Servers accept the absolute form, so the request goes on as it came.
        let url = url::Url::parse(target).map_err(std::io::Error::other)?;
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let mut upstream = TcpStream::connect((host, port)).await?;
        upstream.write_all(&head).await?;
        upstream
    };
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// `host:port` of `url`, as a `CONNECT` names it.
fn authority(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap())
}

/// Starts hookgate with `vars` in its environment and the destinations `billing` and
/// `ledger`; posts one event and waits until each of `sinks` has it.
async fn deliver_one_event(
    vars: &[(&str, &str)],
    billing: &Dest,
    ledger: &Dest,
    sinks: [&Sink; 2],
) {
    let database_url = create_database(&server_url()).await;
    let text = config_text(&database_url, billing, ledger, "");
    let process = ServeProcess::start_with_env(&text, vars);
    post_github(&process.ingest).await;
    for sink in sinks {
        sink.wait_for(1, Duration::from_secs(15)).await;
    }
}

fn https_sink(ca: &TestCa) -> Sink {
    let cert = ca.server("sink", SINK_NAMES);
    Sink::start_https(Vec::new(), Reply::status(200), SinkTls::serving(cert))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_go_through_the_proxies_named_in_https_proxy_and_http_proxy() {
    let proxy = Proxy::start().await;
    let ca = TestCa::new("hookgate test CA");
    let (secure, plain) = (https_sink(&ca), Sink::ok());
    let vars = [
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("HTTP_PROXY", &proxy.url),
    ];
    let billing = Dest::at(&secure.url, &tls_setting(&ca, None));
    let ledger = Dest::at(&plain.url, "");
    deliver_one_event(&vars, &billing, &ledger, [&secure, &plain]).await;
    let asked = proxy.asked();
    let tunnel = format!("CONNECT {}", authority(&secure.url));
    assert!(asked.contains(&tunnel), "{tunnel:?} not in {asked:?}");
    let forwarded = format!("POST {}", plain.url);
    assert!(asked.contains(&forwarded), "{forwarded:?} not in {asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_listed_in_no_proxy_bypass_the_proxy() {
    let proxy = Proxy::start().await;
    let ca = TestCa::new("hookgate test CA");
    let (secure, plain) = (https_sink(&ca), Sink::ok());
    let by_name = Dest::at(
        &secure.url.replace("127.0.0.1", "localhost"),
        &tls_setting(&ca, None),
    );
    let vars = [
        ("https_proxy", proxy.url.as_str()),
        ("http_proxy", &proxy.url),
        ("no_proxy", "example.internal, localhost"),
    ];
    let ledger = Dest::at(&plain.url, "");
    deliver_one_event(&vars, &by_name, &ledger, [&secure, &plain]).await;
    let asked = proxy.asked();
    assert!(
        asked.iter().all(|request| !request.contains("localhost")),
        "{asked:?}"
    );
    let forwarded = format!("POST {}", plain.url);
    assert!(asked.contains(&forwarded), "{forwarded:?} not in {asked:?}");
}
