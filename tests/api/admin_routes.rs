//! Every admin operation wants the bearer token, whatever the method, and none is served on
//! the ingest listener (nor are the consumer routes, which want tokens of their own). The
//! operations come from the OpenAPI document, which lists exactly the ones the admin scope
//! registers (both are made from one table, `admin_operations!` in src/admin/mod.rs) and the
//! consumer routes: a new route is asked here without anyone adding it to a list.

use crate::helpers::*;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};

/// Every method a route is asked with: a documented path answers 401 before it would say
/// 405, so the token is checked before anything else about the request.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
];

/// Paths under the prefix that no operation documents: the token comes before 404 too.
const UNDOCUMENTED: [&str; 4] = [
    "/admin",
    "/admin/",
    "/admin/no-such-route",
    "/admin/events/{id}/no-such-route",
];

/// `Authorization` values that are not the token: none, another, the token with a byte more
/// or less, the token in another scheme.
fn not_the_token() -> Vec<Option<String>> {
    vec![
        None,
        Some("Bearer wrong-token".into()),
        Some(format!("Bearer {ADMIN_TOKEN}x")),
        Some(format!("Bearer {}", &ADMIN_TOKEN[1..])),
        Some(format!("Basic {ADMIN_TOKEN}")),
        Some(ADMIN_TOKEN.into()),
    ]
}

/// Every operation an OpenAPI `document` describes, as (upper-case method, path template).
pub fn documented_operations(document: &serde_json::Value) -> Vec<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let paths = document["paths"]
        .as_object()
        .expect("the document has paths");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in METHODS
            .into_iter()
            .filter(|method| item.get(method).is_some())
        {
            operations.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    operations
}

/// A stored event and a bulk replay, so that with the token each documented operation is
/// answered by its handler with a success.
struct Ids {
    event: String,
    replay: String,
}

async fn seed(app: &TestApp) -> Ids {
    let event = app
        .post_github_event("push", unique_body().as_bytes(), "application/json")
        .await;
    let response = app.admin_post("/admin/replays", "{}").await;
    assert_eq!(response.status(), 202);
    let replay = json(response).await["id"].as_str().unwrap().to_owned();
    Ids { event, replay }
}

/// `template` with its `{id}` filled in (a replay's under `/admin/replays/`, else an event's)
/// and its `{destination}` (the consumer routes').
fn fill(template: &str, ids: &Ids) -> String {
    let id = if template.starts_with("/admin/replays/") {
        &ids.replay
    } else {
        &ids.event
    };
    template
        .replace("{id}", id)
        .replace("{destination}", "ledger")
}

/// The smallest body each POST operation takes: `{}`, or what a route requires.
fn post_body(path: &str) -> &'static str {
    match path.ends_with("/blocked-keys/skip") {
        true => r#"{"key":"no-such-key"}"#,
        false => "{}",
    }
}

/// The consumer routes take a pull destination's own tokens, never the admin token.
fn takes_the_admin_token(path: &str) -> bool {
    !path.starts_with("/consume/")
}

async fn documented(app: &TestApp) -> Vec<(Method, String)> {
    let response = app.admin_get("/admin/openapi.json").await;
    assert_eq!(response.status(), 200);
    let operations: Vec<(Method, String)> = documented_operations(&json(response).await)
        .into_iter()
        .map(|(method, path)| (method.parse().unwrap(), path))
        .collect();
    assert!(
        operations.contains(&(Method::GET, "/admin/openapi.json".into())),
        "the document does not describe itself: {operations:?}"
    );
    operations
}

async fn ask(
    app: &TestApp,
    base: &str,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut request = app.http.request(method.clone(), format!("{base}{path}"));
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    if *method == Method::POST {
        request = request.body(post_body(path));
    }
    request.send().await.expect("hookgate answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_wants_the_token_whatever_the_method() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let operations = documented(&app).await;
    let mut paths: Vec<String> = operations
        .iter()
        .map(|(_, path)| fill(path, &ids))
        .collect();
    paths.extend(UNDOCUMENTED.iter().map(|path| fill(path, &ids)));
    paths.sort();
    paths.dedup();
    for path in &paths {
        for method in &METHODS {
            for authorization in not_the_token() {
                let response = ask(&app, &app.admin, method, path, authorization.as_deref()).await;
                let what = format!("{method} {path} with {authorization:?}");
                assert_eq!(response.status(), 401, "{what}");
                assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer", "{what}");
                assert_eq!(
                    response.headers()[CONTENT_TYPE],
                    "application/problem+json",
                    "{what}"
                );
                if *method != Method::HEAD {
                    assert_eq!(json(response).await["code"], "unauthorized", "{what}");
                }
            }
        }
    }
    // With the token each admin operation reaches its handler: the 401s above were the
    // token's. The consumer routes refuse it (tests/api/pull.rs asks them with theirs).
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    for (method, template) in &operations {
        let path = fill(template, &ids);
        let response = ask(&app, &app.admin, method, &path, Some(&bearer)).await;
        if takes_the_admin_token(template) {
            assert!(
                response.status().is_success(),
                "{method} {path} with the token: {}",
                response.status()
            );
        } else {
            assert_eq!(
                response.status(),
                401,
                "{method} {path} with the admin token"
            );
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_admin_route_is_served_on_the_ingest_listener() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    for (method, template) in documented(&app).await {
        let path = fill(&template, &ids);
        for authorization in [None, Some(bearer.as_str())] {
            let response = ask(&app, &app.ingest, &method, &path, authorization).await;
            let what = format!("{method} {path} on the ingest listener with {authorization:?}");
            assert_eq!(response.status(), 404, "{what}");
            assert_eq!(json(response).await["code"], "not_found", "{what}");
        }
    }
    app.stop().await;
}
