//! The ingest listener's connection cap (`server.max_connections`): connections beyond the
//! served ones are answered 503 + Retry-After and closed, and beyond the shed room they wait in
//! the kernel's queue, unaccepted, until one closes.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::raw_http::{Answer, RawConnection, RawRequest, RawResponse};
use hookgate::ingest::shedding::SHED_ROOM_PER_CPU;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

fn healthz() -> Vec<u8> {
    RawRequest {
        method: "GET",
        target: b"/healthz".to_vec(),
        version: "HTTP/1.1",
        headers: Vec::new(),
        body: Vec::new(),
    }
    .bytes("hookgate")
}

/// A Stripe webhook, validly signed.
fn stripe_webhook(event_id: &str) -> Vec<u8> {
    let body = format!(r#"{{"id":"{event_id}","type":"invoice.paid","data":{{}}}}"#);
    RawRequest::post("/webhooks/stripe")
        .headers(&sign::stripe(secrets::STRIPE, body.as_bytes(), now()))
        .body(body)
        .bytes("hookgate")
}

fn response(answer: Answer) -> RawResponse {
    match answer {
        Answer::Response(response) => response,
        other => panic!("no response: {other:?}"),
    }
}

/// Whether the server has closed `connection` (it reads end of stream, not silence).
async fn closed_by_server(connection: &mut RawConnection) -> bool {
    matches!(connection.reader.answer().await, Answer::Closed)
}

/// A flood of senders gets answers, not connect timeouts: a connection beyond the served ones
/// has its webhook refused with 503 + Retry-After, unstored, and is closed by that answer, so
/// the sender retries later through admission; once a served connection closes, a new one is
/// served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_served_ones_is_answered_503_and_closed() {
    let (app, _) = start_ingest_with("max_connections = 2").await;
    let address = app.ingest.trim_start_matches("http://").to_owned();

    let mut served = Vec::new();
    for _ in 0..2 {
        let mut connection = RawConnection::open(&address).await;
        let answer = response(connection.exchange(&healthz()).await);
        assert_eq!(answer.status, 200);
        assert!(!answer.closes(), "a served connection is kept alive");
        served.push(connection);
    }

    // Other requests than webhooks are answered on a shed connection, which that answer
    // closes too: a shed connection carries one request.
    let mut shed = RawConnection::open(&address).await;
    let answer = response(shed.exchange(&healthz()).await);
    assert_eq!(answer.status, 200);
    assert!(answer.closes(), "a shed connection is kept alive");
    assert!(closed_by_server(&mut shed).await);

    let mut shed = RawConnection::open(&address).await;
    let answer = response(shed.exchange(&stripe_webhook("evt_shed")).await);
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some(&b"5"[..]));
    assert!(answer.is_hookgate_problem());
    let problem: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(problem["code"], "overloaded");
    // The refusal closes the connection, so its sender meets admission afresh, and no
    // pooled client sees the connection close under a request it has just sent.
    assert!(answer.closes(), "a refusal keeps its connection");
    assert!(
        closed_by_server(&mut shed).await,
        "the shed connection stays open"
    );

    // A served connection's close frees its place (hookgate sees the close a moment later).
    drop(served.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut connection, answer) = loop {
        let mut connection = RawConnection::open(&address).await;
        let answer = response(connection.exchange(&stripe_webhook("evt_served")).await);
        if answer.status != 503 {
            break (connection, answer);
        }
        assert!(
            Instant::now() < deadline,
            "no connection served after one closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(answer.status, 202);
    assert!(!answer.closes());
    assert_eq!(connection.exchange(&healthz()).await.status(), Some(200));

    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE event_id = 'evt_shed'")
            .await,
        0,
        "a shed webhook was stored"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE event_id = 'evt_served'")
            .await,
        1
    );
    app.stop().await;
}

/// Connections the test below opens while hookgate accepts as many as it may.
const QUEUED_BEYOND_THE_CAP: usize = 500;

/// A connection flood cannot grow memory without bound: beyond `server.max_connections` served
/// and the shed room, connections wait unaccepted, and are taken once one closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_accepted_ones_wait_until_one_closes() {
    let (app, _) = start_ingest_with("max_connections = 1").await;
    let address = app.ingest.trim_start_matches("http://").to_owned();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    // One served and the shed room, shared out among the workers.
    let accepted = (1 + SHED_ROOM_PER_CPU * workers).div_ceil(workers) * workers;

    // Idle connections, taken in the order they were made: every worker is at its share.
    let mut held = Vec::new();
    for _ in 0..accepted {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Hundreds wait in the kernel's queue, their handshakes completed at once: not only the
    // standard library's default 128, beyond which a handshake is dropped and retried a
    // second or more later.
    let mut queued = Vec::new();
    for _ in 0..QUEUED_BEYOND_THE_CAP {
        let connect = TcpStream::connect(&address);
        let stream = tokio::time::timeout(Duration::from_millis(500), connect)
            .await
            .expect("the kernel completes the handshake while hookgate is at its cap");
        queued.push(stream.unwrap());
    }
    drop(queued);
    let mut waiting = RawConnection::open(&address).await;
    let answer = tokio::spawn(async move { waiting.exchange(&healthz()).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !answer.is_finished(),
        "a connection beyond the accepted ones was served"
    );

    drop(held.pop());
    let answer = answer.await.unwrap();
    assert_eq!(answer.status(), Some(200), "not taken once one closed");
    app.stop().await;
}
