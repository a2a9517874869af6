//! Transformations end to end, in a real `hookgate serve`: scripts reshape, add headers,
//! change the path and skip deliveries; a throwing, looping or memory-hungry script fails only
//! its own attempts (`transform_error: …`, never held against the destination's circuit) while
//! the gateway keeps delivering; after a fix and `SIGHUP`, a replay delivers the new shape.

use crate::cli::check_config;
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::{ServeProcess, empty_dir, hookgate, temp_file};
use crate::sink::Sink;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

const SCRIPTS: &[(&str, &str)] = &[
    (
        "reshape",
        "function handler(event) {\n\
           return {\n\
             body: { kind: event.event_type, amount: event.body.amount, from: event.headers['x-github-delivery'] },\n\
             headers: { 'X-Shaped': 'yes', 'Idempotency-Key': 'mine' },\n\
             path: '/shaped',\n\
           };\n\
         }\n",
    ),
    (
        "small_ones_out",
        "function handler(event) { return event.body.amount < 100 ? null : {}; }\n",
    ),
    (
        "throws",
        "function handler(event) {\n  throw new Error('no customer on ' + event.event_type);\n}\n",
    ),
    ("loops", "function handler(event) { while (true) {} }\n"),
    (
        "bombs",
        "function handler(event) { const a = []; while (true) { a.push('x'.repeat(1048576) + a.length); } }\n",
    ),
];

/// A GitHub source per script family, all to billing; `shaped` also to the ledger.
fn sources() -> String {
    let source = |id: &str, connections: &str| {
        format!(
            "\n[[sources]]\nid = \"{id}\"\nprovider = \"github\"\nsecrets = [{:?}]\ndestinations = [{connections}]\n",
            secrets::GITHUB
        )
    };
    [
        source(
            "shaped",
            r#"{ id = "billing", transform = "reshape" }, { id = "ledger", transform = "small_ones_out" }"#,
        ),
        source("throwing", r#"{ id = "billing", transform = "throws" }"#),
        source("looping", r#"{ id = "billing", transform = "loops" }"#),
        source("bombing", r#"{ id = "billing", transform = "bombs" }"#),
    ]
    .concat()
}

fn write_scripts(dir: &Path) {
    for (name, source) in SCRIPTS {
        std::fs::write(dir.join(format!("{name}.js")), source).unwrap();
    }
}

fn config(database_url: &str, billing: &str, ledger: &str, dir: &Path) -> String {
    // Quick retries, so failing transforms spend many attempts while the test watches, and a
    // circuit that, once open, would stay open longer than the test waits.
    let retries = "max_attempts = 100\nbackoff_base_ms = 20\nbackoff_max_ms = 200\n\
                   circuit = { failure_threshold = 5, cool_down_ms = 120000, max_cool_down_ms = 120000 }";
    config_text(
        database_url,
        &Dest::at(billing, retries),
        &Dest::at(ledger, ""),
        &sources(),
    )
    .replace(
        "max_body_bytes = 65536",
        &format!(
            "max_body_bytes = 65536\ntransforms_dir = \"{}\"",
            dir.display()
        ),
    )
}

/// Posts a signed push with `body` to `source`: its hookgate id.
async fn post(hookgate: &ServeProcess, source: &str, body: &Value) -> String {
    let body = body.to_string();
    let headers = sign::github(
        secrets::GITHUB,
        body.as_bytes(),
        &Uuid::now_v7().to_string(),
    );
    let mut request = http()
        .post(format!("{}/webhooks/{source}", hookgate.ingest))
        .body(body);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 202);
    json(response).await["id"].as_str().unwrap().to_owned()
}

async fn admin(hookgate: &ServeProcess, method: reqwest::Method, path: &str) -> Value {
    let response = http()
        .request(method, format!("{}{path}", hookgate.admin))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    json(response).await
}

/// The event's delivery to `destination` once it has made `attempts` attempts.
async fn delivery_after(
    hookgate: &ServeProcess,
    id: &str,
    destination: &str,
    attempts: i64,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let event = admin(
            hookgate,
            reqwest::Method::GET,
            &format!("/admin/events/{id}"),
        )
        .await;
        let delivery = event["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .rfind(|d| d["destination"] == destination)
            .cloned()
            .unwrap();
        if delivery["attempts"].as_i64().unwrap() >= attempts && delivery["state"] != "in_flight" {
            return delivery;
        }
        assert!(Instant::now() < deadline, "{delivery}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_reshape_skip_and_fail_alone_and_a_fixed_script_applies_to_a_replay() {
    let (billing, ledger) = (Sink::ok(), Sink::ok());
    let dir = empty_dir();
    write_scripts(&dir);
    let database = create_database(&server_url()).await;
    let hookgate = ServeProcess::start(&config(&database.url, &billing.url, &ledger.url, &dir));

    // The failing scripts first: their attempts pile up while the rest is checked.
    let throwing = post(&hookgate, "throwing", &json!({"amount": 1})).await;
    let looping = post(&hookgate, "looping", &json!({"amount": 1})).await;
    let bombing = post(&hookgate, "bombing", &json!({"amount": 1})).await;

    let big = post(&hookgate, "shaped", &json!({"amount": 4200})).await;
    let small = post(&hookgate, "shaped", &json!({"amount": 5})).await;

    // Reshaped: a new JSON body, an added header, a longer path; hookgate's headers stay.
    let received = billing.wait_for(2, WAIT).await;
    let shaped = received
        .iter()
        .find(|r| r.header("idempotency-key") == big)
        .expect("the big event reached billing");
    assert_eq!(shaped.path, "/hook/shaped");
    assert_eq!(shaped.header("content-type"), "application/json");
    assert_eq!(shaped.header("x-shaped"), "yes");
    assert_eq!(shaped.header("x-hookgate-source"), "shaped");
    let body: Value = serde_json::from_slice(&shaped.body).unwrap();
    assert_eq!(body["kind"], "push");
    assert_eq!(body["amount"], 4200);
    assert!(
        body["from"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );

    // Skipped: the small one never reaches the ledger, and its delivery says why.
    let ledger_got = ledger.wait_for(1, WAIT).await;
    assert_eq!(ledger_got[0].header("idempotency-key"), big);
    assert_eq!(
        ledger_got[0].body,
        json!({"amount": 4200}).to_string().as_bytes()
    );
    let skipped = delivery_after(&hookgate, &small, "ledger", 1).await;
    assert_eq!(skipped["state"], "filtered");
    assert_eq!(
        skipped["last_error"],
        "filtered: the transform returned null"
    );

    // Failing scripts: each attempt fails with transform_error and is retried.
    let threw = delivery_after(&hookgate, &throwing, "billing", 6).await;
    assert_eq!(threw["state"], "pending");
    let error = threw["last_error"].as_str().unwrap();
    assert!(
        error.starts_with("transform_error: throws: no customer on push"),
        "{error}"
    );
    assert!(error.contains("throws.js:2"), "{error}");
    let looped = delivery_after(&hookgate, &looping, "billing", 2).await;
    let error = looped["last_error"].as_str().unwrap();
    assert!(
        error.starts_with("transform_error: loops: ran longer than 50 ms"),
        "{error}"
    );
    let bombed = delivery_after(&hookgate, &bombing, "billing", 2).await;
    let error = bombed["last_error"].as_str().unwrap();
    assert!(
        error.contains("exceeded its memory limit of 16 MiB"),
        "{error}"
    );

    // Six failed transforms to billing and its circuit (5 failures) is still closed: a new
    // event is delivered at once.
    let after = post(&hookgate, "shaped", &json!({"amount": 300})).await;
    let received = billing.wait_for(3, WAIT).await;
    assert!(
        received
            .iter()
            .any(|r| r.header("idempotency-key") == after)
    );

    // Fix the script, SIGHUP, replay: the new shape; the stored event is unchanged.
    std::fs::write(
        dir.join("throws.js"),
        "function handler(event) { return { body: { fixed: true, was: event.body } }; }\n",
    )
    .unwrap();
    hookgate.signal("HUP");
    let deadline = Instant::now() + WAIT;
    let fixed = loop {
        let got = billing.received();
        if let Some(fixed) = got.iter().find(|r| r.header("idempotency-key") == throwing) {
            break fixed.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the fixed script never delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let body: Value = serde_json::from_slice(&fixed.body).unwrap();
    assert_eq!(body, json!({"fixed": true, "was": {"amount": 1}}));
    let payload = http()
        .get(format!(
            "{}/admin/events/{throwing}/payload",
            hookgate.admin
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        payload.bytes().await.unwrap(),
        json!({"amount": 1}).to_string()
    );
    let replay = admin(
        &hookgate,
        reqwest::Method::POST,
        &format!("/admin/events/{small}/replay"),
    )
    .await;
    assert_eq!(replay["deliveries"].as_array().unwrap().len(), 2);

    // `transform test --event-id`: a stored event through the admin API.
    let config_file = temp_file(&config(&database.url, &billing.url, &ledger.url, &dir));
    let (ok, output) = transform_test(&[
        "reshape",
        "--config",
        config_file.to_str().unwrap(),
        "--event-id",
        &big,
        "--admin-url",
        &hookgate.admin,
        "--token",
        ADMIN_TOKEN,
    ]);
    assert!(ok, "{output}");
    assert!(output.contains(r#""amount": 4200"#), "{output}");
    assert!(output.contains(r#""path": "/shaped""#), "{output}");
    drop(hookgate);
}

/// Runs `hookgate transform test ARGS…`: whether it succeeded, and what it printed.
fn transform_test(args: &[&str]) -> (bool, String) {
    let output = hookgate()
        .args(["transform", "test"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn transform_test_runs_a_script_on_a_local_body() {
    let dir = empty_dir();
    write_scripts(&dir);
    let nowhere = Dest::default().url;
    let config_file = temp_file(&config(
        "postgres://x@127.0.0.1/db",
        &nowhere,
        &nowhere,
        &dir,
    ));
    let body = temp_file(r#"{"amount": 7}"#);
    let local = |name: &str| {
        transform_test(&[
            name,
            "--config",
            config_file.to_str().unwrap(),
            "--event",
            body.to_str().unwrap(),
            "--event-type",
            "push",
            "--header",
            "X-GitHub-Delivery: d-42",
        ])
    };
    let (ok, output) = local("reshape");
    assert!(ok, "{output}");
    let printed: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(
        printed["body"],
        json!({"kind": "push", "amount": 7, "from": "d-42"})
    );
    assert_eq!(printed["headers"]["X-Shaped"], "yes");
    assert_eq!(printed["path"], "/shaped");
    let (ok, output) = local("small_ones_out");
    assert!(ok && output.trim() == "null", "{output}");
    let (ok, output) = local("throws");
    assert!(!ok);
    assert!(
        output.contains("transform_error: no customer on push"),
        "{output}"
    );
}

#[test]
fn check_config_names_a_missing_or_broken_script() {
    let dir = empty_dir();
    write_scripts(&dir);
    std::fs::write(
        dir.join("throws.js"),
        "function handler(e) {\n  return e +;\n}\n",
    )
    .unwrap();
    std::fs::remove_file(dir.join("loops.js")).unwrap();
    let nowhere = Dest::default().url;
    let text = config("postgres://x@127.0.0.1/db", &nowhere, &nowhere, &dir);
    let (ok, output) = check_config(&text);
    assert!(!ok);
    assert!(
        output.contains(r#"sources[10] ("throwing").destinations[0] ("billing").transform"#),
        "{output}"
    );
    assert!(output.contains("throws.js:2"), "{output}");
    std::fs::write(dir.join("throws.js"), "function handler(e) { return e; }\n").unwrap();
    let (ok, output) = check_config(&text);
    assert!(!ok);
    assert!(output.contains("loops.js"), "{output}");
    assert!(output.contains("cannot read"), "{output}");
}
