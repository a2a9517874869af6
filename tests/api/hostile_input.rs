//! Hostile requests beyond malformed signatures (those are in `ingest`): a 1 MB header, and
//! correctly signed bodies nested 10,000 deep where hookgate reads a JSON field. Never a 5xx or
//! a panic, and hookgate keeps serving.

use crate::helpers::*;
use crate::independent_sign as sign;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_headers_and_deeply_nested_bodies_never_get_a_server_error() {
    let app = spawn_app().await;

    let huge = format!("sha256={}", "a".repeat(1024 * 1024));
    let request = app
        .http
        .post(app.webhook_url("github"))
        .header("X-Hub-Signature-256", &huge)
        .body(unique_body());
    // The listener refuses such a head before any handler runs: a 4xx, or the connection
    // closed while the client is still sending it.
    if let Ok(response) = request.send().await {
        assert!(response.status().is_client_error(), "{}", response.status());
    }

    // Stripe reads the event id at a JSON pointer: a body nested 10,000 deep has none, so its
    // id is the body's hash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let signed = sign::stripe(secrets::STRIPE, deep.as_bytes(), now());
    let stored = app.post("stripe", &signed, deep).await;
    assert_eq!(stored.status(), 202);
    let event_id = json(stored).await["event_id"].as_str().unwrap().to_string();
    assert_eq!(event_id.len(), 64, "the body's SHA-256: {event_id}");

    // A handshake's marker inside such a body does not make it a handshake.
    let slack = format!(
        "{}\"url_verification\"{}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let signed = sign::slack(secrets::SLACK, slack.as_bytes(), now());
    assert_eq!(app.post("slack", &signed, slack).await.status(), 202);

    let after = sign::github(secrets::GITHUB, b"{}", "delivery-after-hostile");
    assert_eq!(
        app.post("github", &after, "{}").await.status(),
        202,
        "still serving"
    );
    app.stop().await;
}
