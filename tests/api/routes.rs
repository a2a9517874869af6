//! Connections and content filters end to end: signed events through a real ingest decide,
//! by their type, headers and body, which destinations get a delivery; the admin API and
//! `check-config` explain the decisions.

use crate::cli::check_config;
use crate::helpers::*;
use crate::sink::Sink;
use std::time::Duration;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

/// A GitHub source whose pushes go to billing unless marked `X-Route: skip`, and to the
/// ledger only for EUR amounts of at least 100.
fn routed_source() -> String {
    format!(
        "\n[[sources]]\nid = \"routed\"\nprovider = \"github\"\nsecrets = [{:?}]\n{ROUTES}",
        secrets::GITHUB
    )
}

const ROUTES: &str = r#"
filter = { event_types = ["push", "release"] }
destinations = [
  { id = "billing", filter = { match = [{ header = "X-Route", exists = false }] } },
  { id = "ledger", filter = { match = [
      { pointer = "/currency", in = ["eur", "EUR"] },
      { pointer = "/amount", gte = 100 },
  ] } },
]
"#;

struct Routed {
    app: TestApp,
    billing: Sink,
    ledger: Sink,
}

impl Routed {
    async fn start() -> Routed {
        let (billing, ledger) = (Sink::ok(), Sink::ok());
        let app = spawn_app_with(TestOptions {
            billing: Dest::at(&billing.url, ""),
            ledger: Dest::at(&ledger.url, ""),
            extra_config: routed_source(),
            ..Default::default()
        })
        .await;
        Routed {
            app,
            billing,
            ledger,
        }
    }

    /// Posts a signed event to the `routed` source: its hookgate id.
    async fn post(&self, event_type: &str, extra: &[(&str, &str)], body: &str) -> String {
        let delivery = Uuid::now_v7().to_string();
        let mut headers =
            crate::independent_sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
        for (name, value) in headers.iter_mut() {
            if name.eq_ignore_ascii_case("x-github-event") {
                *value = event_type.to_owned();
            }
        }
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let response = self.app.post("routed", &headers, body).await;
        assert_eq!(response.status(), 202, "{event_type} {body}");
        json(response).await["id"].as_str().unwrap().to_owned()
    }

    /// The destinations the event has deliveries for, and its `filtered` entries.
    async fn routing(&self, id: &str) -> (Vec<String>, serde_json::Value) {
        let detail = json(self.app.admin_get(&format!("/admin/events/{id}")).await).await;
        let mut destinations: Vec<String> = detail["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["destination"].as_str().unwrap().to_owned())
            .collect();
        destinations.sort();
        (destinations, detail["filtered"].clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_choose_destinations_by_type_header_and_body_and_say_why() {
    let routed = Routed::start().await;
    let both = routed
        .post("push", &[], r#"{"currency":"eur","amount":4200}"#)
        .await;
    let cheap = routed
        .post("push", &[], r#"{"currency":"EUR","amount":99.5}"#)
        .await;
    let marked = routed
        .post(
            "release",
            &[("X-Route", "skip")],
            r#"{"currency":"eur","amount":100}"#,
        )
        .await;
    let not_json = routed.post("push", &[], "currency=eur&amount=4200").await;
    let wrong_type = routed.post("issues", &[], r#"{"currency":"eur"}"#).await;

    let (destinations, filtered) = routed.routing(&both).await;
    assert_eq!(destinations, ["billing", "ledger"]);
    assert_eq!(filtered, serde_json::json!([]));

    let (destinations, filtered) = routed.routing(&cheap).await;
    assert_eq!(destinations, ["billing"]);
    assert_eq!(
        filtered,
        serde_json::json!([{"destination": "ledger", "rule": "match[1]: pointer \"/amount\" gte 100"}])
    );

    let (destinations, filtered) = routed.routing(&marked).await;
    assert_eq!(destinations, ["ledger"]);
    assert_eq!(
        filtered,
        serde_json::json!([{"destination": "billing", "rule": "match[0]: header \"x-route\" exists false"}])
    );

    let (destinations, filtered) = routed.routing(&not_json).await;
    assert_eq!(destinations, ["billing"]);
    assert_eq!(filtered[0]["destination"], "ledger");
    assert_eq!(
        filtered[0]["rule"],
        "match[0]: pointer \"/currency\" in [\"eur\",\"EUR\"]"
    );

    let (destinations, filtered) = routed.routing(&wrong_type).await;
    assert!(destinations.is_empty());
    assert_eq!(
        filtered,
        serde_json::json!([{"destination": null, "rule": "event_types [\"push\", \"release\"]"}])
    );

    // Deliveries follow the decisions: three to billing, two to the ledger, each once.
    let ids = |received: Vec<crate::sink::Received>| {
        let mut ids: Vec<String> = received
            .iter()
            .map(|r| r.header("idempotency-key").to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<&String>| {
        ids.sort();
        ids.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(
        ids(routed.billing.wait_for(3, WAIT).await),
        sorted(vec![&both, &cheap, &not_json])
    );
    assert_eq!(
        ids(routed.ledger.wait_for(2, WAIT).await),
        sorted(vec![&both, &marked])
    );
    let deliveries = routed.app.count("SELECT count(*) FROM deliveries").await;
    assert_eq!(deliveries, 5, "a filtered connection made a delivery");
    routed.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_of_a_filtered_event_is_still_a_duplicate_and_a_replay_may_override() {
    let routed = Routed::start().await;
    let body = r#"{"currency":"usd","amount":5}"#;
    let delivery = Uuid::now_v7().to_string();
    let headers = crate::independent_sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
    let first = routed.app.post("routed", &headers, body).await;
    assert_eq!(first.status(), 202);
    let id = json(first).await["id"].as_str().unwrap().to_owned();
    let again = routed.app.post("routed", &headers, body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(json(again).await["id"], id.as_str());
    routed.billing.wait_for(1, WAIT).await;

    // An operator's replay to a filtered-out destination is an explicit choice: it delivers.
    let replay = routed
        .app
        .admin_post(
            &format!("/admin/events/{id}/replay"),
            r#"{"destinations":["ledger"]}"#,
        )
        .await;
    assert_eq!(replay.status(), 202);
    let received = routed.ledger.wait_for(1, WAIT).await;
    assert_eq!(received[0].header("idempotency-key"), id);
    routed.app.stop().await;
}

#[test]
fn check_config_names_the_source_destination_and_condition_of_a_bad_filter() {
    let config = |routes: &str| {
        default_config_text("postgres://x@127.0.0.1/db")
            + &format!(
                "\n[[sources]]\nid = \"routed\"\nprovider = \"github\"\nsecrets = [\"s\"]\n{routes}\n"
            )
    };
    let cases = [
        (
            r#"destinations = ["billing", { id = "ledger", filter = { match = [{ pointer = "currency", equals = "eur" }] } }]"#,
            r#"sources[9] ("routed").destinations[1] ("ledger").filter.match[0]: pointer "currency" must start with `/`"#,
        ),
        (
            r#"destinations = [{ id = "ledger", filter = { match = [{ pointer = "/a", gt = "10" }] } }]"#,
            r#"sources[9] ("routed").destinations[0] ("ledger").filter.match[0]: `gt` must be a number, not a string"#,
        ),
        (
            r#"filter = { match = [{ header = "X-Kind", equals = "a", prefix = "b" }] }"#,
            r#"sources[9] ("routed").filter.match[0]: has more than one test"#,
        ),
        (
            r#"filter = {}"#,
            r#"sources[9] ("routed").filter: is empty"#,
        ),
        (
            r#"destinations = ["billing", { id = "billing" }]"#,
            r#"sources[9] ("routed").destinations: "billing" is listed twice"#,
        ),
        (
            r#"destinations = [{ id = "ledger", filter = { match = [{ pointer = "/a", like = "x" }] } }]"#,
            "unknown field `like`",
        ),
    ];
    for (routes, expected) in cases {
        let (ok, output) = check_config(&config(routes));
        assert!(!ok, "{routes} passed check-config");
        assert!(output.contains(expected), "{routes}:\n{output}");
    }
    let (ok, output) =
        check_config(&(default_config_text("postgres://x@127.0.0.1/db") + &routed_source()));
    assert!(ok, "{output}");
}
