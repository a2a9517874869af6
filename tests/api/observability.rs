//! `/metrics` and retention: the exposition parses strictly, its counters move with traffic,
//! it leaks no secret; the purge removes exactly the old, fully delivered events.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Reply, Sink};
use hookgate::app::Role;
use hookgate::store::Store;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// One parsed exposition: `name{label="value",…}` (labels sorted) → value.
type Samples = HashMap<String, f64>;

/// Parses the Prometheus text format strictly: every line is a `# HELP`/`# TYPE` comment or
/// a sample with a valid name, well-formed labels and a float value; panics otherwise.
fn parse_exposition(text: &str) -> Samples {
    let mut samples = Samples::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            assert!(matches!(kind, "HELP" | "TYPE"), "bad comment: {line}");
            assert!(is_metric_name(name), "bad name in: {line}");
            if kind == "TYPE" {
                let kind = parts.next().unwrap_or("");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "bad type: {line}"
                );
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').expect(line))),
            None => (series, Vec::new()),
        };
        assert!(is_metric_name(name), "bad name: {line}");
        let mut labels = labels;
        labels.sort();
        let key = series_key(name, &labels);
        assert!(
            samples.insert(key, value).is_none(),
            "repeated series: {line}"
        );
    }
    samples
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `a="x",b="y\"z"` → pairs, unescaping `\\`, `\"` and `\n`.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect(text);
        assert!(is_metric_name(name) && !name.contains(':'), "label {name}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("unterminated label value") {
                (_, '\\') => match chars.next().expect("dangling escape").1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c} in {text}"),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.push((name.to_owned(), value));
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    labels
}

fn series_key(name: &str, labels: &[(String, String)]) -> String {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

async fn scrape(app: &TestApp) -> (String, Samples) {
    let response = app
        .http
        .get(format!("{}/metrics", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let samples = parse_exposition(&text);
    (text, samples)
}

/// The key of `name{labels}` in [`Samples`], whatever the order of `labels`.
fn key_of(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.sort();
    series_key(name, &labels)
}

/// The value of `name{labels}`; 0 when the series is not there.
fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples.get(&key_of(name, labels)).copied().unwrap_or(0.0)
}

/// Scrapes until `name{labels}` has grown by at least `by` from `before` (other tests in
/// this process share the recorder, so counters only ever grow by at least our traffic).
async fn wait_growth(
    app: &TestApp,
    before: &Samples,
    name: &str,
    labels: &[(&str, &str)],
    by: f64,
) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, now) = scrape(app).await;
        let grown = value(&now, name, labels) - value(before, name, labels);
        if grown >= by {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}{labels:?} grew by {grown}, not {by}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts a GitHub webhook whose event id is `delivery`.
async fn post_github(app: &TestApp, body: &str, delivery: &str) -> reqwest::Response {
    let headers = sign::github(secrets::GITHUB, body.as_bytes(), delivery);
    app.post("github", &headers, body.to_owned()).await
}

#[test]
fn the_strict_parser_refuses_malformed_expositions() {
    let good = "# HELP a_total A thing\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"uote\"} 3\nb 1.5e3\n";
    let samples = parse_exposition(good);
    assert_eq!(samples[r#"a_total{x="1",y="q\"uote"}"#], 3.0);
    assert_eq!(samples["b{}"], 1500.0);
    for bad in [
        "1abc 2",
        "a{x=1} 2",
        "a{x=\"1\" 2",
        "a x",
        "# FOO a",
        "a{x=\"\\q\"} 1",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_ingest_outcomes_and_delivery_outcomes() {
    let billing = Sink::ok();
    let ledger = Sink::start(Vec::new(), Reply::status(400));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&billing.url, ""),
        ledger: Dest::at(&ledger.url, ""),
        ..Default::default()
    })
    .await;
    let (_, before) = scrape(&app).await;

    let (body, delivery) = (unique_body(), uuid::Uuid::now_v7().to_string());
    assert_eq!(post_github(&app, &body, &delivery).await.status(), 202);
    assert_eq!(post_github(&app, &body, &delivery).await.status(), 200);
    let forged = sign::github("not the secret", body.as_bytes(), "delivery-1");
    assert_eq!(
        app.post("github", &forged, body.clone()).await.status(),
        401
    );
    assert_eq!(app.post("no-such-source", &[], "{}").await.status(), 404);

    let ingest = "hookgate_ingest_requests_total";
    for outcome in ["accepted", "duplicate", "rejected_signature_mismatch"] {
        wait_growth(
            &app,
            &before,
            ingest,
            &[("source", "github"), ("outcome", outcome)],
            1.0,
        )
        .await;
    }
    let unknown = [("source", "unknown"), ("outcome", "unknown_source")];
    wait_growth(&app, &before, ingest, &unknown, 1.0).await;
    let attempts = "hookgate_delivery_attempts_total";
    let delivered = [("destination", "billing"), ("outcome", "delivered")];
    wait_growth(&app, &before, attempts, &delivered, 1.0).await;
    let dead = [("destination", "ledger"), ("outcome", "dead")];
    wait_growth(&app, &before, attempts, &dead, 1.0).await;

    let (text, samples) = scrape(&app).await;
    for histogram in [
        "hookgate_ingest_ack_seconds_count{source=\"github\"}",
        "hookgate_ingest_response_seconds_count{status=\"202\"}",
        "hookgate_ingest_response_seconds_count{status=\"200\"}",
        "hookgate_ingest_response_seconds_count{status=\"401\"}",
        "hookgate_ingest_response_seconds_count{status=\"404\"}",
        "hookgate_ingest_commit_batch_size_count{}",
        "hookgate_ingest_commit_seconds_count{}",
        "hookgate_ingest_commit_queue_wait_seconds_count{}",
        "hookgate_delivery_duration_seconds_count{destination=\"billing\"}",
    ] {
        assert!(
            samples.get(histogram).is_some_and(|v| *v >= 1.0),
            "{histogram}\n{text}"
        );
    }
    for gauge in [
        "hookgate_queue_depth{destination=\"billing\"}",
        "hookgate_queue_oldest_pending_seconds{destination=\"ledger\"}",
        "hookgate_circuit_state{destination=\"billing\"}",
    ] {
        assert!(samples.contains_key(gauge), "{gauge} missing:\n{text}");
    }
    assert!(!text.contains("no-such-source"), "raw paths are not labels");
}

/// A rate over a source's or a destination's outcomes has a series before their first event:
/// each is exported from the start, at 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_and_a_destination_have_their_series_before_any_event() {
    // Ids no other test in this process (which shares the recorder) ever sends to.
    let suffix = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let (source, destination) = (format!("quiet_{suffix}"), format!("idle_{suffix}"));
    let app = spawn_app_with(TestOptions {
        extra_config: format!(
            "[[sources]]\nid = \"{source}\"\nprovider = \"github\"\nsecrets = [\"quiet\"]\n\
             destinations = [\"{destination}\"]\n\n\
             [[destinations]]\nid = \"{destination}\"\nurl = \"http://127.0.0.1:9/never\"\n"
        ),
        ..Default::default()
    })
    .await;
    let (text, samples) = scrape(&app).await;
    let at_zero = |name: &str, labels: &[(&str, &str)]| {
        let series = key_of(name, labels);
        assert_eq!(samples.get(&series), Some(&0.0), "{series}:\n{text}");
    };
    for outcome in ["accepted", "duplicate"] {
        let labels = [("source", source.as_str()), ("outcome", outcome)];
        at_zero("hookgate_ingest_requests_total", &labels);
    }
    at_zero("hookgate_ingest_ack_seconds_count", &[("source", &source)]);
    for outcome in ["delivered", "retry", "dead", "filtered"] {
        let labels = [("destination", destination.as_str()), ("outcome", outcome)];
        at_zero("hookgate_delivery_attempts_total", &labels);
    }
    at_zero(
        "hookgate_delivery_duration_seconds_count",
        &[("destination", &destination)],
    );
    at_zero("hookgate_circuit_state", &[("destination", &destination)]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_never_show_a_secret_or_an_event_id() {
    let app = spawn_app().await;
    let (body, delivery) = (unique_body(), uuid::Uuid::now_v7().to_string());
    let ack = json(post_github(&app, &body, &delivery).await).await;
    let forged = sign::github("wrong", body.as_bytes(), "delivery-1");
    app.post("github", &forged, body.clone()).await;
    let (text, _) = scrape(&app).await;
    for secret in secrets::ALL.into_iter().chain([ADMIN_TOKEN]) {
        assert!(!text.contains(secret), "{secret:?} in /metrics");
    }
    for id in [
        ack["id"].as_str().unwrap(),
        ack["event_id"].as_str().unwrap(),
    ] {
        assert!(!text.contains(id), "event id {id} in /metrics");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_old_delivered_events_and_keeps_dead_pending_and_recent_ones() {
    let app = spawn_app_with(TestOptions {
        role: Role::Ingest,
        ..Default::default()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let delivery = uuid::Uuid::now_v7().to_string();
        let ack = json(post_github(&app, &unique_body(), &delivery).await).await;
        ids.push(ack["id"].as_str().unwrap().to_owned());
    }
    let [
        old_delivered,
        old_dead,
        old_pending,
        recent_delivered,
        old_no_deliveries,
    ] = <[String; 5]>::try_from(ids).unwrap();
    let sql = |statement: &'static str, event: &str| {
        sqlx::query(statement)
            .bind(event.to_owned())
            .execute(&app.db)
    };
    let all_delivered = "UPDATE deliveries SET state = 'delivered' WHERE event_id = $1::uuid";
    sql(all_delivered, &old_delivered).await.unwrap();
    sql(all_delivered, &recent_delivered).await.unwrap();
    sql(all_delivered, &old_dead).await.unwrap();
    let one_dead = "UPDATE deliveries SET state = 'dead' WHERE event_id = $1::uuid AND destination_id = 'ledger'";
    sql(one_dead, &old_dead).await.unwrap();
    let billing_done = "UPDATE deliveries SET state = 'delivered' WHERE event_id = $1::uuid AND destination_id = 'billing'";
    sql(billing_done, &old_pending).await.unwrap();
    sql(
        "DELETE FROM deliveries WHERE event_id = $1::uuid",
        &old_no_deliveries,
    )
    .await
    .unwrap();
    // Retention reads the receive time from the time-ordered id: age these events by giving
    // them (and their deliveries) the id they would have had 31 days ago.
    let month_ago = time::OffsetDateTime::now_utc() - time::Duration::days(31);
    let mut aged = Vec::new();
    for event in [&old_delivered, &old_dead, &old_pending, &old_no_deliveries] {
        let old_id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            month_ago.unix_timestamp() as u64,
            0,
        ))
        .to_string();
        for statement in [
            "UPDATE events SET id = $2::uuid, received_at = now() - interval '31 days' WHERE id = $1::uuid",
            "UPDATE deliveries SET event_id = $2::uuid WHERE event_id = $1::uuid",
        ] {
            sqlx::query(statement)
                .bind(event.as_str())
                .bind(&old_id)
                .execute(&app.db)
                .await
                .unwrap();
        }
        aged.push(old_id);
    }
    let [old_delivered, old_dead, old_pending, old_no_deliveries] =
        <[String; 4]>::try_from(aged).unwrap();
    sql(
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status) \
         SELECT id, 1, now(), 5, 200 FROM deliveries WHERE event_id = $1::uuid",
        &old_delivered,
    )
    .await
    .unwrap();

    let store = Store::connect_lazy(&app.database_url, 2).unwrap();
    let purged = hookgate::retention::purge_expired(&store, 30)
        .await
        .unwrap();
    assert_eq!(purged, 2);

    let remaining: Vec<String> = sqlx::query_scalar("SELECT id::text FROM events ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let mut expected = vec![old_dead, old_pending, recent_delivered];
    expected.sort();
    assert_eq!(remaining, expected);
    assert!(!remaining.contains(&old_delivered) && !remaining.contains(&old_no_deliveries));
    let orphans = app
        .count("SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)")
        .await;
    assert_eq!(orphans, 0);
    let orphan_attempts = app
        .count("SELECT count(*) FROM delivery_attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)")
        .await;
    assert_eq!(orphan_attempts, 0);
    assert_eq!(
        hookgate::retention::purge_expired(&store, 30)
            .await
            .unwrap(),
        0
    );
}
