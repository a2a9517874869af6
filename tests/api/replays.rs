//! Bulk replay: the dead-letter redrive against a real sink, resuming after a restart, auth,
//! and the `hookgate replay` command line.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Reply, Sink};
use hookgate::app::Role;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "test-admin-token";
const DEAD_BILLING: &str =
    "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'dead'";
const DELIVERED_BILLING: &str =
    "SELECT count(*) FROM deliveries WHERE destination_id = 'billing' AND state = 'delivered'";

/// Posts `n` new GitHub events; answers their hookgate ids.
async fn post_events(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let body = unique_body();
        let delivery = uuid::Uuid::now_v7().to_string();
        let headers = sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
        let response = app.post("github", &headers, body).await;
        assert_eq!(response.status(), 202);
        ids.push(json(response).await["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn start_replay(app: &TestApp, filter: Value) -> (String, i64) {
    let response = app
        .http
        .post(format!("{}/admin/replays", app.admin))
        .bearer_auth(TOKEN)
        .json(&filter)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body = json(response).await;
    (
        body["id"].as_str().unwrap().to_owned(),
        body["matched"].as_i64().unwrap(),
    )
}

async fn replay_progress(app: &TestApp, id: &str) -> Value {
    let response = app
        .http
        .get(format!("{}/admin/replays/{id}", app.admin))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json(response).await
}

async fn wait_completed(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let progress = replay_progress(app, id).await;
        if progress["state"] == "completed" {
            return progress;
        }
        assert_eq!(progress["state"], "running", "{progress}");
        assert!(Instant::now() < deadline, "not completed: {progress}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn idempotency_keys(received: &[crate::sink::Received]) -> BTreeSet<String> {
    received
        .iter()
        .map(|r| r.header("Idempotency-Key").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redriving_dead_deliveries_delivers_them_with_the_original_idempotency_key_once() {
    let sink = Sink::start(vec![Reply::status(400); 3], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let events = post_events(&app, 3).await;
    app.wait_count(DEAD_BILLING, 3, WAIT).await;
    let expected: BTreeSet<String> = events.into_iter().collect();
    assert_eq!(idempotency_keys(&sink.received()), expected);

    let (id, matched) =
        start_replay(&app, json!({"status": "dead", "destination": "billing"})).await;
    assert_eq!(matched, 3);
    let progress = wait_completed(&app, &id).await;
    assert_eq!(progress["replayed"], 3, "{progress}");
    assert_eq!(progress["matched"], 3);
    assert_eq!(
        progress["filter"],
        json!({"status": "dead", "destination": "billing"})
    );
    assert!(progress["completed_at"].is_string(), "{progress}");

    app.wait_count(DELIVERED_BILLING, 3, WAIT).await;
    let replayed = &sink.received()[3..];
    assert_eq!(idempotency_keys(replayed), expected);
    assert!(
        replayed
            .iter()
            .all(|r| r.header("X-Hookgate-Attempt") == "1")
    );

    let (again, matched) = start_replay(&app, json!({"status": "dead"})).await;
    assert_eq!(matched, 0, "a second redrive finds nothing left to replay");
    assert_eq!(replay_progress(&app, &again).await["state"], "completed");
    assert_eq!(sink.count(), 6);

    // Both are listed, newest first, a page at a time, as asked for through the API.
    let list = |query: String| {
        let request = app
            .http
            .get(format!("{}/admin/replays{query}", app.admin))
            .bearer_auth(TOKEN);
        async move { json(request.send().await.unwrap()).await }
    };
    let first = list("?limit=1".to_owned()).await;
    assert_eq!(first["replays"][0]["id"], again.as_str(), "{first}");
    assert_eq!(first["replays"][0]["requested_by"], "admin API");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = list(format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(second["replays"][0]["id"], id.as_str(), "{second}");
    assert_eq!(second["replays"][0]["replayed"], 3);
    assert!(second["next_cursor"].is_null(), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_routes_want_the_admin_token_and_a_valid_filter() {
    let app = spawn_app().await;
    let url = format!("{}/admin/replays", app.admin);
    let anonymous = app.http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let wrong = app
        .http
        .post(&url)
        .bearer_auth("nope")
        .json(&json!({}))
        .send();
    assert_eq!(wrong.await.unwrap().status(), 401);
    let progress = app
        .http
        .get(format!("{url}/{}", uuid::Uuid::now_v7()))
        .send();
    assert_eq!(progress.await.unwrap().status(), 401);

    let bad = app
        .http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({"status": "pending"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(json(bad).await["code"], "invalid_filter");
    let missing = app
        .http
        .get(format!("{url}/{}", uuid::Uuid::now_v7()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_interrupted_mid_way_resumes_from_its_cursor_in_the_next_process() {
    let sink = Sink::ok();
    let billing = Dest::at(&sink.url, "");
    // An ingest-only process: it records the replay but runs no replays and no deliveries.
    let first = spawn_app_with(TestOptions {
        billing: billing.clone(),
        role: Role::Ingest,
        ..Default::default()
    })
    .await;
    post_events(&first, 4).await;
    sqlx::query("UPDATE deliveries SET state = 'dead' WHERE destination_id = 'billing'")
        .execute(&first.db)
        .await
        .unwrap();
    let (id, matched) = start_replay(&first, json!({"status": "dead"})).await;
    assert_eq!(matched, 4);

    // As if a runner had done the first batch of two and then died.
    let order: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "SELECT id, event_id FROM deliveries WHERE destination_id = 'billing' ORDER BY id",
    )
    .fetch_all(&first.db)
    .await
    .unwrap();
    let done: Vec<uuid::Uuid> = order[..2].iter().map(|(id, _)| *id).collect();
    sqlx::query("UPDATE deliveries SET replayed_at = now() WHERE id = ANY($1)")
        .bind(&done)
        .execute(&first.db)
        .await
        .unwrap();
    sqlx::query("UPDATE replays SET replayed = 2, cursor = $2 WHERE id = $1::uuid")
        .bind(&id)
        .bind(done[1])
        .execute(&first.db)
        .await
        .unwrap();
    let database_url = first.database.clone();
    first.stop().await;

    let text = config_text(&database_url, &billing, &Dest::default(), "");
    let second = start(&text, database_url, Role::All).await;
    let progress = wait_completed(&second, &id).await;
    assert_eq!(progress["replayed"], 4, "{progress}");
    second.wait_count(DELIVERED_BILLING, 2, WAIT).await;
    let expected: BTreeSet<String> = order[2..].iter().map(|(_, e)| e.to_string()).collect();
    assert_eq!(idempotency_keys(&sink.received()), expected);
}

async fn hookgate_replay(args: &[&str], token: Option<&str>) -> (bool, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookgate"));
    command.arg("replay").args(args);
    for name in [
        "HOOKGATE_ADMIN_TOKEN",
        "HOOKGATE_ADMIN_URL",
        "HOOKGATE_CONFIG",
        "DATABASE_URL",
    ] {
        command.env_remove(name);
    }
    if let Some(token) = token {
        command.env("HOOKGATE_ADMIN_TOKEN", token);
    }
    let output = command.output().await.unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_starts_a_bulk_replay_and_reports_its_progress() {
    let sink = Sink::start(vec![Reply::status(410)], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    post_events(&app, 1).await;
    app.wait_count(DEAD_BILLING, 1, WAIT).await;

    let admin = app.admin.as_str();
    let (ok, stdout, stderr) = hookgate_replay(
        &[
            "bulk",
            "--status",
            "dead",
            "--destination",
            "billing",
            "--admin-url",
            admin,
        ],
        Some(TOKEN),
    )
    .await;
    assert!(ok, "{stderr}");
    let started: Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(started["matched"], 1);
    let id = started["id"].as_str().unwrap();
    wait_completed(&app, id).await;

    let (ok, stdout, stderr) =
        hookgate_replay(&["status", id, "--admin-url", admin], Some(TOKEN)).await;
    assert!(ok, "{stderr}");
    let progress: Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(progress["id"], id);
    assert_eq!(progress["state"], "completed");
    assert_eq!(progress["replayed"], 1);

    let (ok, _, stderr) =
        hookgate_replay(&["status", id, "--admin-url", admin], Some("wrong")).await;
    assert!(!ok);
    assert!(stderr.contains("401"), "{stderr}");
    let unknown = uuid::Uuid::now_v7().to_string();
    let (ok, _, stderr) =
        hookgate_replay(&["event", &unknown, "--admin-url", admin], Some(TOKEN)).await;
    assert!(!ok);
    assert!(stderr.contains("404"), "{stderr}");
}
