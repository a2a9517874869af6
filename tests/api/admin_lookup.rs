//! "Did we get evt_0001?": the search by provider event id, the refusal of query parameters a
//! route does not take, and the answer to a provider id where a hookgate id belongs.

use crate::helpers::*;
use crate::independent_sign as sign;
use serde_json::Value;
use std::collections::BTreeSet;

/// Posts `body` to stripe (event id at `/id`) and answers hookgate's id for it.
pub async fn post_stripe_body(app: &TestApp, body: &str) -> String {
    let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    let response = app.post("stripe", &headers, body.to_owned()).await;
    assert_eq!(response.status(), 202);
    json(response).await["id"].as_str().unwrap().to_owned()
}

/// Posts `body` to paddle (event id at `/event_id`) and answers hookgate's id for it.
async fn post_paddle_body(app: &TestApp, body: &str) -> String {
    let headers = sign::paddle(secrets::PADDLE, body.as_bytes(), now());
    let response = app.post("paddle", &headers, body.to_owned()).await;
    assert_eq!(response.status(), 202);
    json(response).await["id"].as_str().unwrap().to_owned()
}

/// The provider event id `unique_body` gave `body`.
pub fn provider_id(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `(source, hookgate id)` of every event a search answers.
async fn found(app: &TestApp, query: &str) -> BTreeSet<(String, String)> {
    let response = app.admin_get(&format!("/admin/events?{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    json(response).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["source"].as_str().unwrap().to_owned(),
                event["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A `400` problem's `code` and `detail`.
async fn problem(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body = json(response).await;
    (
        body["code"].as_str().unwrap().to_owned(),
        body["detail"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_event_id_finds_the_event_in_each_source_and_nothing_else() {
    let app = spawn_app().await;
    let shared = unique_body();
    let in_stripe = post_stripe_body(&app, &shared).await;
    let in_paddle = post_paddle_body(&app, &shared).await;
    post_stripe_body(&app, &unique_body()).await;
    let id = provider_id(&shared);

    let both = found(&app, &format!("provider_event_id={id}")).await;
    let expected = BTreeSet::from([
        ("paddle".to_owned(), in_paddle.clone()),
        ("stripe".to_owned(), in_stripe),
    ]);
    assert_eq!(both, expected);
    let one = found(&app, &format!("provider_event_id={id}&source=paddle")).await;
    assert_eq!(one, BTreeSet::from([("paddle".to_owned(), in_paddle)]));
    assert!(
        found(&app, "provider_event_id=evt_never_sent")
            .await
            .is_empty()
    );
    assert!(
        found(&app, &format!("provider_event_id={id}&source=github"))
            .await
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_names_the_query_parameters_it_does_not_take() {
    let app = spawn_app().await;
    let (code, detail) = problem(app.admin_get("/admin/events?evnt_type=x&limit=5").await).await;
    assert_eq!(code, "unknown_parameter");
    assert!(
        detail.starts_with(r#"unknown query parameter "evnt_type" (did you mean "event_type"?)"#),
        "{detail}"
    );
    assert!(detail.contains("provider_event_id"), "{detail}");
    let (_, detail) = problem(app.admin_get("/admin/events?event_id=evt_1&x=1").await).await;
    assert!(
        detail.contains(r#""event_id" (did you mean "provider_event_id"?)"#)
            && detail.contains(r#""x""#),
        "{detail}"
    );
    let (_, detail) = problem(app.admin_get("/admin/deliveries?state=dead").await).await;
    assert!(detail.contains(r#""state""#), "{detail}");

    let id = post_stripe_body(&app, &unique_body()).await;
    let no_query_routes = [
        ("GET", format!("/admin/events/{id}")),
        ("GET", format!("/admin/events/{id}/payload")),
        ("POST", format!("/admin/events/{id}/replay")),
        ("GET", "/admin/stats".to_owned()),
        ("GET", "/admin/openapi.json".to_owned()),
        ("POST", "/admin/replays".to_owned()),
        ("GET", format!("/admin/replays/{}", uuid::Uuid::now_v7())),
    ];
    for (method, path) in no_query_routes {
        let path = format!("{path}?pretty=1");
        let response = match method {
            "GET" => app.admin_get(&path).await,
            _ => app.admin_post(&path, "{}").await,
        };
        let (_, detail) = problem(response).await;
        assert_eq!(
            detail, r#"unknown query parameter "pretty"; this route takes no query parameters"#,
            "{method} {path}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_id_where_a_hookgate_id_belongs_points_to_the_search() {
    let app = spawn_app().await;
    for response in [
        app.admin_get("/admin/events/evt_0001").await,
        app.admin_get("/admin/events/evt_0001/payload").await,
        app.admin_post("/admin/events/evt_0001/replay", "").await,
    ] {
        let (code, detail) = problem(response).await;
        assert_eq!(code, "not_an_event_id");
        assert!(
            detail.starts_with(r#""evt_0001" is not a hookgate event id"#),
            "{detail}"
        );
        assert!(
            detail.ends_with("GET /admin/events?provider_event_id=evt_0001"),
            "{detail}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_provider_event_id_filter() {
    let app = spawn_app().await;
    let document = json(app.admin_get("/admin/openapi.json").await).await;
    let parameters = document["paths"]["/admin/events"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = parameters
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"provider_event_id"), "{names:?}");
    app.stop().await;
}
