//! The admin API: auth on every route, search and pagination, event detail and payload,
//! replay to a real sink, the dead-letter view, stats and the OpenAPI document.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Reply, Sink};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const WAIT: Duration = Duration::from_secs(15);

/// The admin routes the contract names, as `(method, OpenAPI path)`; `{id}` is an event. The
/// document must describe each (every documented route is asked without the token in
/// tests/api/admin_routes.rs).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin/events"),
    ("GET", "/admin/events/{id}"),
    ("GET", "/admin/events/{id}/payload"),
    ("POST", "/admin/events/{id}/replay"),
    ("GET", "/admin/deliveries"),
    ("GET", "/admin/handshakes"),
    ("GET", "/admin/stats"),
    ("GET", "/admin/openapi.json"),
];

/// Bulk replay routes (tests/api/replays.rs covers what they do).
const REPLAY_ROUTES: &[(&str, &str)] =
    &[("POST", "/admin/replays"), ("GET", "/admin/replays/{id}")];

async fn post_event(app: &TestApp, event_type: &str) -> String {
    app.post_github_event(event_type, unique_body().as_bytes(), "application/json")
        .await
}

async fn post_stripe(app: &TestApp) -> String {
    let body = unique_body();
    let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    json(app.post("stripe", &headers, body).await).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.admin_get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    json(response).await
}

/// The event ids of a search, in order.
async fn search(app: &TestApp, query: &str) -> Vec<String> {
    ids(&get_json(app, &format!("/admin/events?{query}")).await["events"])
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until no delivery to `destination` is pending or in flight.
async fn wait_settled(app: &TestApp, destination: &str) {
    app.wait_count(
        &format!(
            "SELECT (count(*) = 0)::int::int8 FROM deliveries \
             WHERE destination_id = '{destination}' AND state IN ('pending', 'in_flight')"
        ),
        1,
        WAIT,
    )
    .await;
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters_by_source_type_status_and_time() {
    let sink = Sink::start(vec![Reply::status(400)], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let dead = post_event(&app, "push").await;
    wait_settled(&app, "billing").await;
    let push = post_event(&app, "push").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let middle = OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let issue = post_event(&app, "issues").await;
    let stripe = post_stripe(&app).await;
    wait_settled(&app, "billing").await;

    assert_eq!(
        search(&app, "").await,
        [
            stripe.as_str(),
            issue.as_str(),
            push.as_str(),
            dead.as_str()
        ]
    );
    assert_eq!(search(&app, "source=stripe").await, [stripe.as_str()]);
    assert_eq!(
        search(&app, "source=github").await,
        [issue.as_str(), push.as_str(), dead.as_str()]
    );
    assert_eq!(
        search(&app, "event_type=push").await,
        [push.as_str(), dead.as_str()]
    );
    assert_eq!(
        search(&app, "source=github&event_type=issues").await,
        [issue.as_str()]
    );
    assert_eq!(search(&app, "status=dead").await, [dead.as_str()]);
    assert_eq!(
        search(&app, "status=delivered").await,
        [stripe.as_str(), issue.as_str(), push.as_str()]
    );
    assert_eq!(search(&app, "source=nope").await, Vec::<String>::new());
    let middle = rfc3339(middle);
    assert_eq!(
        search(&app, &format!("since={middle}")).await,
        [stripe.as_str(), issue.as_str()]
    );
    assert_eq!(
        search(&app, &format!("until={middle}")).await,
        [push.as_str(), dead.as_str()]
    );

    let page = get_json(&app, "/admin/events?event_type=issues").await;
    let event = &page["events"][0];
    assert_eq!(event["source"], "github");
    assert_eq!(event["content_type"], "application/json");
    assert!(event["size"].as_i64().unwrap() > 0);
    assert_eq!(event["deliveries"]["delivered"], 1, "{event}");
    assert!(page["next_cursor"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cover_every_event_once_even_while_new_ones_arrive() {
    let app = spawn_app().await;
    let mut posted = Vec::new();
    for _ in 0..7 {
        posted.push(post_event(&app, "push").await);
    }
    posted.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("/admin/events?limit=3&cursor={cursor}"),
            None => "/admin/events?limit=3".to_owned(),
        };
        let page = get_json(&app, &query).await;
        pages += 1;
        seen.extend(ids(&page["events"]));
        if pages == 1 {
            post_event(&app, "push").await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, posted);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_parameters_are_400_problems_and_unknown_events_404() {
    let app = spawn_app().await;
    for path in [
        "/admin/events?limit=0",
        "/admin/events?limit=501",
        "/admin/events?limit=many",
        "/admin/events?cursor=not-a-cursor",
        "/admin/events?since=yesterday",
        "/admin/events?until=2024-13-01T00:00:00Z",
        "/admin/events?status=lost",
        "/admin/events/not-a-uuid",
        "/admin/events/not-a-uuid/payload",
        "/admin/deliveries?status=sideways",
        "/admin/deliveries?cursor=AAAA",
    ] {
        let response = app.admin_get(path).await;
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/admin/events/{unknown}"),
        format!("/admin/events/{unknown}/payload"),
    ] {
        let response = app.admin_get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(json(response).await["code"], "event_not_found");
    }
    let replay = app
        .admin_post(&format!("/admin/events/{unknown}/replay"), "")
        .await;
    assert_eq!(replay.status(), 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_shows_its_headers_deliveries_attempts_and_exact_payload() {
    let script = vec![Reply::status(500)];
    let sink = Sink::start(script, Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, "backoff_base_ms = 20\nbackoff_max_ms = 50"),
        ..Default::default()
    })
    .await;
    let body: &[u8] = b"\x00\xff\xfe binary \x80 payload \xc3\x28";
    let id = app
        .post_github_event("push", body, "application/x-custom; v=1")
        .await;
    wait_settled(&app, "billing").await;

    let event = get_json(&app, &format!("/admin/events/{id}")).await;
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["source"], "github");
    assert_eq!(event["event_type"], "push");
    assert_eq!(event["size"], body.len());
    assert_eq!(event["headers"]["x-github-event"], "push");
    assert!(event["headers"]["x-hub-signature-256"].is_string());
    let deliveries = event["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2);
    let billing = deliveries
        .iter()
        .find(|d| d["destination"] == "billing")
        .unwrap();
    assert_eq!(billing["state"], "delivered");
    assert_eq!(billing["attempts"], 2);
    assert_eq!(billing["last_status"], 200);
    let attempts = billing["attempt_history"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["status"], 200);
    assert!(attempts[1]["duration_ms"].is_i64());
    assert!(attempts[1]["started_at"].is_string());

    let payload = app.admin_get(&format!("/admin/events/{id}/payload")).await;
    assert_eq!(payload.status(), 200);
    assert_eq!(
        payload.headers()["content-type"],
        "application/x-custom; v=1"
    );
    assert_eq!(payload.bytes().await.unwrap(), body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_delivers_again_with_the_same_idempotency_key_to_the_chosen_destinations() {
    let billing = Sink::ok();
    let ledger = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&billing.url, ""),
        ledger: Dest::at(&ledger.url, ""),
        ..Default::default()
    })
    .await;
    let id = post_event(&app, "push").await;
    billing.wait_for(1, WAIT).await;
    ledger.wait_for(1, WAIT).await;

    let replay = app
        .admin_post(
            &format!("/admin/events/{id}/replay"),
            r#"{"destinations":["billing"]}"#,
        )
        .await;
    assert_eq!(replay.status(), 202);
    let created = json(replay).await["deliveries"].clone();
    assert_eq!(created.as_array().unwrap().len(), 1);
    assert_eq!(created[0]["destination"], "billing");
    let received = billing.wait_for(2, WAIT).await;
    assert_eq!(received[1].header("idempotency-key"), id);
    assert_eq!(
        received[1].header("x-hookgate-delivery-id"),
        created[0]["id"]
    );
    assert_eq!(received[1].body, received[0].body);

    let replay = app
        .admin_post(&format!("/admin/events/{id}/replay"), "")
        .await;
    assert_eq!(replay.status(), 202);
    let created = json(replay).await["deliveries"].clone();
    let mut destinations: Vec<&str> = created
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["destination"].as_str().unwrap())
        .collect();
    destinations.sort_unstable();
    assert_eq!(destinations, ["billing", "ledger"]);
    billing.wait_for(3, WAIT).await;
    let received = ledger.wait_for(2, WAIT).await;
    assert_eq!(received[1].header("idempotency-key"), id);

    // The detail finds all five: the two created at ingest, whose ids start with the event's
    // (its first 10 bytes, written as 23 characters), and the three replays', which do not.
    let detail = json(app.admin_get(&format!("/admin/events/{id}")).await).await;
    let ids: Vec<&str> = detail["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "{detail}");
    let with_event_prefix = ids.iter().filter(|d| d[..23] == id[..23]).count();
    assert_eq!(with_event_prefix, 2, "{ids:?}");

    let unknown = app
        .admin_post(
            &format!("/admin/events/{id}/replay"),
            r#"{"destinations":["nowhere"]}"#,
        )
        .await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(json(unknown).await["code"], "unknown_destination");
    let malformed = app
        .admin_post(&format!("/admin/events/{id}/replay"), "{")
        .await;
    assert_eq!(malformed.status(), 400);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_letter_view_lists_what_died_newest_first_in_pages() {
    let sink = Sink::start(Vec::new(), Reply::status(400));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let first = post_event(&app, "push").await;
    wait_settled(&app, "billing").await;
    let second = post_event(&app, "push").await;
    wait_settled(&app, "billing").await;

    let page = get_json(&app, "/admin/deliveries?limit=1").await;
    let listed = &page["deliveries"][0];
    assert_eq!(listed["event_id"], second.as_str());
    assert_eq!(listed["source"], "github");
    assert_eq!(listed["destination"], "billing");
    assert_eq!(listed["state"], "dead");
    assert_eq!(listed["attempts"], 1);
    assert_eq!(listed["last_status"], 400);
    assert!(listed["updated_at"].is_string());
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = get_json(&app, &format!("/admin/deliveries?limit=1&cursor={cursor}")).await;
    assert_eq!(next["deliveries"][0]["event_id"], first.as_str());
    assert!(next["next_cursor"].is_null());

    let by_destination = get_json(&app, "/admin/deliveries?destination=ledger").await;
    assert_eq!(by_destination["deliveries"], serde_json::json!([]));
    let pending = get_json(&app, "/admin/deliveries?status=pending&destination=ledger").await;
    let in_flight = get_json(
        &app,
        "/admin/deliveries?status=in_flight&destination=ledger",
    )
    .await;
    let open = pending["deliveries"].as_array().unwrap().len()
        + in_flight["deliveries"].as_array().unwrap().len();
    assert_eq!(open, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_what_was_received_delivered_pending_and_dead() {
    let sink = Sink::start(vec![Reply::status(400)], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    for _ in 0..4 {
        post_event(&app, "push").await;
    }
    post_stripe(&app).await;
    wait_settled(&app, "billing").await;

    let expected_sources = serde_json::json!([
        {"source": "github", "received": 4},
        {"source": "stripe", "received": 1},
    ]);
    let check = |stats: Value| {
        assert_eq!(stats["sources"], expected_sources);
        let destinations = stats["destinations"].as_array().unwrap();
        let billing = &destinations[0];
        assert_eq!(billing["destination"], "billing");
        assert_eq!(
            (&billing["delivered"], &billing["pending"], &billing["dead"]),
            (&4.into(), &0.into(), &1.into())
        );
        assert!(billing["oldest_pending_age_secs"].is_null());
        let ledger = &destinations[1];
        assert_eq!(ledger["destination"], "ledger");
        assert_eq!(
            (&ledger["delivered"], &ledger["pending"], &ledger["dead"]),
            (&0.into(), &5.into(), &0.into())
        );
        assert!(ledger["oldest_pending_age_secs"].as_f64().unwrap() >= 0.0);
    };
    check(get_json(&app, "/admin/stats").await);

    // Once the rollup has absorbed every row, the totals are the same.
    let store = hookgate::store::Store::connect_lazy(&app.database_url, 2).unwrap();
    let everything =
        hookgate::store::stats_cutoff(OffsetDateTime::now_utc(), -time::Duration::hours(1));
    store.fold_stats(everything).await.unwrap();
    assert_eq!(
        app.count("SELECT sum(count)::bigint FROM stats_rollup WHERE kind = 'events'")
            .await,
        5
    );
    check(get_json(&app, "/admin/stats").await);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_admin_response_shows_a_secret() {
    let sink = Sink::ok();
    let signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, &format!("signing_secret = \"{signing_secret}\"")),
        ..Default::default()
    })
    .await;
    let body = unique_body();
    let mut headers = sign::github(secrets::GITHUB, body.as_bytes(), "delivery-1");
    headers.push(("Authorization".into(), "Bearer upstream-credential".into()));
    headers.push(("X-Api-Key".into(), "upstream-api-key".into()));
    let id = json(app.post("github", &headers, body).await).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sink.wait_for(1, WAIT).await;
    let replay = app
        .admin_post(&format!("/admin/events/{id}/replay"), "")
        .await;
    let mut bodies = vec![replay.text().await.unwrap()];
    for (method, route) in ROUTES {
        if *method == "GET" && !route.ends_with("/payload") {
            let response = app.admin_get(&route.replace("{id}", &id)).await;
            bodies.push(response.text().await.unwrap());
        }
    }
    let secrets = [
        signing_secret,
        ADMIN_TOKEN,
        secrets::GITHUB,
        secrets::STRIPE,
        "upstream-credential",
        "upstream-api-key",
    ];
    for body in &bodies {
        for secret in secrets {
            assert!(!body.contains(secret), "{secret:?} shown in {body}");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_admin_route() {
    let app = spawn_app().await;
    let document = get_json(&app, "/admin/openapi.json").await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for (method, route) in ROUTES.iter().chain(REPLAY_ROUTES) {
        let operation = &document["paths"][route][method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{method} {route} not documented");
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} {route}: no 401"
        );
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let target = reference.strip_prefix('#').unwrap();
        assert!(
            document.pointer(target).is_some(),
            "{reference} does not resolve"
        );
    }
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with(['4', '5']) {
                    let content = response["content"].as_object().unwrap();
                    let types: Vec<&String> = content.keys().collect();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    app.stop().await;
}

/// Every `$ref` in `value`.
fn collect_refs(value: &serde_json::Value, refs: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item.as_str()) {
                    ("$ref", Some(reference)) => refs.push(reference.to_string()),
                    _ => collect_refs(item, refs),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_route_with_another_method_is_405_with_allow() {
    let app = spawn_app().await;
    let event = "/admin/events/0190b6a0-0000-7000-8000-000000000000";
    for (method, path, allow) in [
        (reqwest::Method::POST, "/admin/stats", Some("GET")),
        (reqwest::Method::DELETE, "/admin/replays", Some("GET, POST")),
        (reqwest::Method::DELETE, event, Some("GET")),
        (reqwest::Method::PUT, "/admin/handshakes", Some("GET")),
        (reqwest::Method::GET, "/admin/no-such-route", None),
    ] {
        let response = app
            .http
            .request(method.clone(), format!("{}{path}", app.admin))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let expected = if allow.is_some() { 405 } else { 404 };
        assert_eq!(response.status(), expected, "{method} {path}");
        let header = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref(), allow, "{method} {path}");
    }
    app.stop().await;
}
