//! No secret ever leaves hookgate: not in logs (at `trace`, every crate's every line), metrics,
//! admin answers or error bodies, whatever the requests; and not through the database or Redis
//! URL either, whose passwords are secrets too.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
use crate::sink::{Reply, Sink};
use std::time::Duration;

const SIGNING_SECRET: &str = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLWRlbGl2ZXJpZXM=";
const CALLER_CREDENTIAL: &str = "Bearer caller-credential-xyz";
/// Postgres trusts local connections, so the password is carried but never checked.
const DATABASE_PASSWORD: &str = "pg-password-never-logged";
/// Redis has no password here: connecting with one fails, which exercises the error paths.
const REDIS_PASSWORD: &str = "redis-password-never-logged";
const META_SECRET: &str = "meta-app-secret-never-logged";
const META_VERIFY_TOKEN: &str = "meta-verify-token-never-logged";
const ZOOM_SECRET: &str = "zoom-secret-never-logged";

/// The Meta and Zoom sources (handshakes with a token and with an HMAC), and a Redis whose URL
/// carries a password.
fn extra_config() -> String {
    format!(
        r#"
[redis]
url = "redis://:{REDIS_PASSWORD}@127.0.0.1:6379"

[[sources]]
id = "meta"
provider = "meta"
secrets = ["{META_SECRET}"]
verify_token = "{META_VERIFY_TOKEN}"
destinations = ["billing"]

[[sources]]
id = "zoom"
provider = "zoom"
secrets = ["{ZOOM_SECRET}"]
destinations = ["billing"]
"#
    )
}

/// One request to the ingest listener and the status it must get.
struct Ask {
    method: reqwest::Method,
    /// After `/webhooks/`, query included.
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
}

fn post(path: &str, headers: Vec<(String, String)>, body: &[u8], status: u16) -> Ask {
    Ask {
        method: reqwest::Method::POST,
        path: path.into(),
        headers,
        body: body.to_vec(),
        status,
    }
}

fn get(path: String, status: u16) -> Ask {
    Ask {
        method: reqwest::Method::GET,
        path,
        headers: Vec::new(),
        body: Vec::new(),
        status,
    }
}

/// Sends each request and keeps each answer's body; answers the stored event's id.
async fn ingest(http: &reqwest::Client, base: &str, bodies: &mut Vec<String>) -> String {
    let body = unique_body();
    let body = body.as_bytes();
    let mut valid = sign::stripe(secrets::STRIPE, body, now());
    valid.push(("Authorization".into(), CALLER_CREDENTIAL.into()));
    let wrong = sign::stripe("whsec_not_the_secret", body, now());
    let zoom =
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let slack = br#"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#;
    let subscribe = |token: &str| {
        format!("meta?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    };
    let asks = [
        post("stripe", valid.clone(), body, 202),
        post("stripe", wrong, body, 401),
        post("stripe", valid, body, 200),
        post("zoom", sign::zoom(ZOOM_SECRET, zoom, now()), zoom, 200),
        post(
            "slack",
            sign::slack(secrets::SLACK, slack, now()),
            slack,
            200,
        ),
        get(subscribe(META_VERIFY_TOKEN), 200),
        get(subscribe("wrong"), 401),
        post("nowhere", Vec::new(), b"{}", 404),
        Ask {
            method: reqwest::Method::PUT,
            ..post("github", Vec::new(), b"{}", 405)
        },
        post("github", Vec::new(), &[b' '; 70_000], 413),
    ];
    let mut event_id = String::new();
    for ask in asks {
        let request = http
            .request(ask.method, format!("{base}/webhooks/{}", ask.path))
            .body(ask.body);
        let request = ask.headers.iter().fold(request, |request, (name, value)| {
            request.header(name, value)
        });
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), ask.status, "{}", ask.path);
        let text = response.text().await.unwrap();
        if ask.status == 202 {
            event_id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        bodies.push(text);
    }
    event_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_appear_in_no_log_line_metric_admin_answer_or_error_body() {
    let sink = Sink::start(vec![Reply::status(500)], Reply::status(200));
    let database = create_database(&server_url()).await;
    let database_url =
        database
            .url
            .replacen("postgres@", &format!("postgres:{DATABASE_PASSWORD}@"), 1);
    let billing = Dest::at(
        &sink.url,
        &format!(
            "signing_secret = \"{SIGNING_SECRET}\"\nbackoff_base_ms = 20\nbackoff_max_ms = 50"
        ),
    );
    let text = config_text(&database_url, &billing, &Dest::default(), &extra_config());
    let mut process = ServeProcess::start_logging(&text, "trace");
    process.read_logs_in_background();
    let http = http();
    let mut bodies = Vec::new();

    let event_id = ingest(&http, &process.ingest, &mut bodies).await;
    sink.wait_for(2, Duration::from_secs(15)).await;

    for (path, token) in [
        (format!("/admin/events/{event_id}"), ADMIN_TOKEN),
        (format!("/admin/events/{event_id}/payload"), ADMIN_TOKEN),
        ("/admin/events".to_owned(), ADMIN_TOKEN),
        ("/admin/handshakes".to_owned(), ADMIN_TOKEN),
        ("/admin/deliveries?status=dead".to_owned(), ADMIN_TOKEN),
        ("/admin/stats".to_owned(), ADMIN_TOKEN),
        ("/admin/openapi.json".to_owned(), ADMIN_TOKEN),
        ("/admin/events".to_owned(), "wrong-token"),
        ("/admin/nowhere".to_owned(), ADMIN_TOKEN),
        ("/metrics".to_owned(), ADMIN_TOKEN),
        ("/readyz".to_owned(), ADMIN_TOKEN),
    ] {
        let response = http
            .get(format!("{}{path}", process.admin))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        bodies.push(response.text().await.unwrap());
    }
    process.signal("TERM");
    assert!(process.wait_exit(Duration::from_secs(30)).success());
    let logs = process.all_logs().join("\n");
    for proof in ["webhook refused", "TRACE", "handshake"] {
        assert!(logs.contains(proof), "the trace logs are captured: {proof}");
    }

    let others = [
        SIGNING_SECRET,
        ADMIN_TOKEN,
        "caller-credential-xyz",
        DATABASE_PASSWORD,
        REDIS_PASSWORD,
        META_SECRET,
        META_VERIFY_TOKEN,
        ZOOM_SECRET,
    ];
    for secret in secrets::ALL.into_iter().chain(others) {
        if let Some(line) = logs.lines().find(|line| line.contains(secret)) {
            panic!("{secret:?} in the logs: {line}");
        }
        for body in &bodies {
            assert!(!body.contains(secret), "{secret:?} in a response: {body}");
        }
    }
}
