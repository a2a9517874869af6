//! The admin API against its own OpenAPI document, as a generated client or an API fuzzer
//! sees it: schemathesis (installed by `scripts/test`, found through `HOOKGATE_SCHEMATHESIS`)
//! generates requests from the document served at `/admin/openapi.json`, valid and invalid,
//! against a hookgate holding events, delivered and dead deliveries, replays, a handshake and
//! messages for a pull consumer (its routes asked with its consumer token), and checks every
//! answer: no 5xx, a documented status, content type and headers, a body
//! valid against its schema, invalid input refused, `405` with `Allow` for another method, and
//! nothing served without the token.

use crate::admin_routes::documented_operations;
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::empty_dir;
use crate::pull::{JOBS_TOKEN, jobs_config};
use crate::sink::Sink;
use std::path::Path;
use std::time::{Duration, Instant};

/// Where `scripts/test` exports the path of schemathesis' `st`.
const SCHEMATHESIS: &str = "HOOKGATE_SCHEMATHESIS";
/// Set to the `Seed:` a failing run printed, to run the same cases again.
const SEED: &str = "HOOKGATE_SCHEMATHESIS_SEED";
/// Generated cases per operation and phase: the whole run stays around ten seconds.
const MAX_EXAMPLES: &str = "40";
/// Every check but `positive_data_acceptance`, which wants a 2xx for every request the schema
/// allows: a schema cannot state what the server rightly refuses with 400 — a cursor it never
/// issued, `since` not before `until`, a destination the event's source does not have.
const EXCLUDED_CHECKS: &str = "positive_data_acceptance";
/// A run that has not ended by then has hung.
const RUN_LIMIT: Duration = Duration::from_secs(300);
const WAIT: Duration = Duration::from_secs(15);

/// What the seeded hookgate holds, for schemathesis to ask about besides what it generates.
struct Seeded {
    events: Vec<String>,
    replay: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_answers_as_its_openapi_document_says() {
    let st = schemathesis();
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        // Nothing listens there, and one attempt is all it gets: dead deliveries.
        ledger: Dest::at("http://127.0.0.1:9/", "max_attempts = 1"),
        extra_config: jobs_config(),
        ..Default::default()
    })
    .await;
    let seeded = seed(&app).await;
    let response = app.admin_get("/admin/openapi.json").await;
    assert_eq!(response.status(), 200);
    let document = response.text().await.unwrap();
    let operations = documented_operations(&serde_json::from_str(&document).unwrap()).len();

    let dir = empty_dir();
    std::fs::write(dir.join("openapi.json"), &document).unwrap();
    std::fs::write(dir.join("schemathesis.toml"), config(&seeded)).unwrap();
    let started = Instant::now();
    let (success, output) = run(&st, &dir, &app.admin).await;
    println!("schemathesis ran in {:.1?}:\n{output}", started.elapsed());
    assert!(
        success,
        "schemathesis found the API and its document disagree:\n{output}"
    );
    assert!(
        output.contains(&format!("Tested: {operations}\n")),
        "schemathesis did not test all {operations} documented operations:\n{output}"
    );
    app.stop().await;
}

/// The `st` command `scripts/test` installed; without it the test fails, saying how to get it.
fn schemathesis() -> String {
    let st = std::env::var(SCHEMATHESIS).unwrap_or_else(|_| {
        panic!(
            "{SCHEMATHESIS} is not set: run scripts/test, which installs schemathesis and sets it"
        )
    });
    assert!(
        Path::new(&st).is_file(),
        "{SCHEMATHESIS}={st} does not exist: run scripts/test, which installs schemathesis"
    );
    st
}

/// Events of several kinds (JSON, binary with its own media type, a Content-Type that is no
/// media type, another provider), each delivered to billing and dead at ledger, one replayed
/// alone and the dead ones in bulk, and a Slack handshake.
async fn seed(app: &TestApp) -> Seeded {
    let json_body = unique_body();
    let mut events = vec![
        app.post_github_event("push", json_body.as_bytes(), "application/json")
            .await,
        app.post_github_event(
            "issues",
            b"\x00\xff binary \x80",
            "application/x-custom; v=1",
        )
        .await,
    ];
    let not_a_media_type = app
        .post_github_event("ping", b"zen", "not a media type")
        .await;
    // Served as bytes of no particular type, not with a Content-Type no client can parse.
    let payload = app
        .admin_get(&format!("/admin/events/{not_a_media_type}/payload"))
        .await;
    assert_eq!(
        payload.headers()["content-type"],
        "application/octet-stream"
    );
    events.push(not_a_media_type);
    let body = unique_body();
    let stripe = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    let response = app.post("stripe", &stripe, body).await;
    assert_eq!(response.status(), 202);
    events.push(json(response).await["id"].as_str().unwrap().to_owned());

    let handshake = br#"{"token":"t","challenge":"c","type":"url_verification"}"#;
    let slack = sign::slack(secrets::SLACK, handshake, now());
    assert_eq!(
        app.post("slack", &slack, handshake.to_vec()).await.status(),
        200
    );

    let settled = |destination: &str, state: &str| {
        format!(
            "SELECT count(*) FROM deliveries WHERE destination_id = '{destination}' AND state = '{state}'"
        )
    };
    let n = events.len() as i64;
    app.wait_count(&settled("billing", "delivered"), n, WAIT)
        .await;
    app.wait_count(&settled("ledger", "dead"), n, WAIT).await;

    let replayed = app
        .admin_post(&format!("/admin/events/{}/replay", events[0]), "")
        .await;
    assert_eq!(replayed.status(), 202);
    let bulk = app
        .admin_post("/admin/replays", r#"{"status":"dead"}"#)
        .await;
    assert_eq!(bulk.status(), 202);
    let replay = json(bulk).await["id"].as_str().unwrap().to_owned();
    for delivery in ["jobs-1", "jobs-2"] {
        let body = unique_body();
        let signed = sign::github(secrets::GITHUB, body.as_bytes(), delivery);
        assert_eq!(app.post("jobs-github", &signed, body).await.status(), 202);
    }
    Seeded { events, replay }
}

/// Half the generated values of these parameters are ones the seeded hookgate holds, so the
/// answers checked include full event details, payloads, replays and filtered pages.
fn config(seeded: &Seeded) -> String {
    let list = |values: &[&str]| -> String {
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        quoted.join(", ")
    };
    let mut ids: Vec<&str> = seeded.events.iter().map(String::as_str).collect();
    ids.push(&seeded.replay);
    format!(
        r#"
headers = {{ Authorization = "Bearer {ADMIN_TOKEN}" }}

[dictionaries.ids]
values = [{ids}]

[dictionaries.sources]
values = ["github", "stripe", "slack"]

[dictionaries.destinations]
values = ["billing", "ledger"]

[dictionaries.pull]
values = ["jobs"]

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"query.source" = {{ dictionary = "sources", probability = 0.5 }}
"query.destination" = {{ dictionary = "destinations", probability = 0.5 }}
"path.destination" = {{ dictionary = "pull", probability = 0.5 }}

# The consumer routes take the pull destination's token, not the admin token.
[[operations]]
include-operation-id-regex = "^(ack|nack)_messages$"
headers = {{ Authorization = "Bearer {JOBS_TOKEN}" }}

# A valid lease with nothing due waits up to wait_ms (20 s) by design, beyond the request
# timeout: only invalid lease requests are generated (tests/api/pull.rs covers valid ones).
[[operations]]
include-operation-id = "lease_messages"
headers = {{ Authorization = "Bearer {JOBS_TOKEN}" }}
generation.mode = "negative"
"#,
        ids = list(&ids),
    )
}

/// Runs schemathesis on `dir`'s document and config against `admin`; answers whether it found
/// nothing, and what it printed.
async fn run(st: &str, dir: &Path, admin: &str) -> (bool, String) {
    let mut command = tokio::process::Command::new(st);
    command
        .current_dir(dir)
        .args(["--config-file", "schemathesis.toml", "--no-color", "run"])
        .args(["openapi.json", "--url", admin])
        .args(["--checks", "all", "--exclude-checks", EXCLUDED_CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--request-timeout", "10"])
        .args(["--generation-database", "none"])
        .kill_on_drop(true);
    if let Ok(seed) = std::env::var(SEED) {
        command.args(["--seed", &seed]);
    }
    let output = tokio::time::timeout(RUN_LIMIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis still running after {RUN_LIMIT:?}"))
        .unwrap_or_else(|err| panic!("cannot run {st}: {err}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
