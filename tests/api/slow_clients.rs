//! Clients that trickle a body cannot hold the ingest listener: each is answered `408` and cut
//! off once `[server] request_timeout_ms` has passed, while a healthy provider still gets in.

use crate::helpers::*;
use crate::independent_sign as sign;
use hookgate::app::Role;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TRICKLERS: usize = 24;

/// Sends a head announcing a 1,000-byte body, then one byte every 100 ms; answers what the
/// server said once it closed the connection, and when.
async fn trickle(address: String) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickling = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut answer)).await;
    trickling.abort();
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn trickled_bodies_are_cut_off_and_providers_still_get_in() {
    let database = create_database(&server_url()).await;
    let text = default_config_text(&database.url).replace(
        "max_body_bytes = 65536",
        "max_body_bytes = 65536\nrequest_timeout_ms = 1000\nmax_connections = 16",
    );
    let app = start(&text, database, Role::default()).await;
    let address = app.ingest.trim_start_matches("http://").to_string();

    let tricklers: Vec<_> = (0..TRICKLERS)
        .map(|_| tokio::spawn(trickle(address.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let body = unique_body();
    let delivery = uuid::Uuid::now_v7().to_string();
    let valid = sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
    let response = app.post("github", &valid, body).await;
    assert_eq!(response.status(), 202);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "the provider waited {waited:?}"
    );

    for trickler in tricklers {
        let (answer, took) = trickler.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        assert!(answer.contains("request_timeout"), "{answer}");
        assert!(took < Duration::from_secs(15), "cut off after {took:?}");
    }
    app.stop().await;
}
