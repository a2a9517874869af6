//! Clients that send a complete signed webhook and hang up before the answer (some with a
//! reset): whatever was stored is delivered, delivery never stalls, and no Postgres session is
//! left idle in a transaction.

use crate::drill::{figures, scale};
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::Sink;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Requests whose senders hang up: 200 (2,000 in the soak).
fn abandoned() -> usize {
    scale(200, 2000)
}

/// One complete signed GitHub webhook, as raw HTTP/1.1.
fn raw_request(address: &str, n: usize) -> Vec<u8> {
    let body = format!(r#"{{"abandoned":{n},"pad":"{}"}}"#, "x".repeat(200));
    let delivery = format!("abandoned-{}-{n}", uuid::Uuid::now_v7().simple());
    let mut head = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in sign::github(secrets::GITHUB, body.as_bytes(), &delivery) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.into_bytes()].concat()
}

async fn send_and_hang_up(address: String, n: usize) {
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream.write_all(&raw_request(&address, n)).await.unwrap();
    if n.is_multiple_of(2) {
        // A reset instead of an orderly close.
        #[allow(
            deprecated,
            reason = "a zero linger resets at once: the drop does not block"
        )]
        stream.set_linger(Some(Duration::ZERO)).unwrap();
    }
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn abandoned_requests_lose_nothing_that_was_stored() {
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let address = app.ingest.trim_start_matches("http://").to_string();
    let senders: Vec<_> = (0..abandoned())
        .map(|n| tokio::spawn(send_and_hang_up(address.clone(), n)))
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    // Load that is answered, alongside.
    for n in 0..20 {
        let body = unique_body();
        let signed = sign::github(secrets::GITHUB, body.as_bytes(), &format!("answered-{n}"));
        assert_eq!(app.post("github", &signed, body).await.status(), 202);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let stored = app.count("SELECT count(*) FROM events").await as usize;
    assert!(stored >= 20, "{stored} stored");
    // Well within the 15 s lease of a hand-over: deliveries of a hung-up request are handed
    // to the worker, not left for the lease reclaimer.
    let delivered = sink.wait_for(stored, Duration::from_secs(10)).await;
    let delivered_ids: std::collections::HashSet<String> = delivered
        .iter()
        .map(|received| received.header("idempotency-key").to_string())
        .collect();
    assert_eq!(delivered_ids.len(), stored, "every stored event delivered");
    let idle = app
        .count(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .await;
    assert_eq!(idle, 0, "no session left idle in a transaction");
    let delivered_rows = "SELECT count(*) FROM deliveries
        WHERE destination_id = 'billing' AND state = 'delivered'";
    app.wait_count(delivered_rows, stored as i64, Duration::from_secs(30))
        .await;
    figures(
        "abandoned-requests",
        &[
            ("abandoned", abandoned().to_string()),
            ("answered", "20".to_string()),
            ("stored", stored.to_string()),
            ("delivered", delivered_ids.len().to_string()),
            ("idle_in_transaction", idle.to_string()),
        ],
    );
    app.stop().await;
}
