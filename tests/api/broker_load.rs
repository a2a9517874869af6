//! Load for the broker destination tests: signed GitHub events posted from several tasks to one
//! source, the body of each acknowledged event kept under its hookgate id, with the broker
//! killed a third of the way in and started again two seconds later.

use crate::helpers::*;
use crate::independent_sign as sign;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Hookgate id → the body acknowledged under it.
pub type Sent = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// A broker destination and the GitHub source that feeds it.
pub struct BrokerRoute<'a> {
    /// The destination's id, `kind` and `url`.
    pub id: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    /// The kind's own keys, one `key = value` line each (`subject = "…"`).
    pub target: &'a str,
    /// Enough attempts, with short backoffs, to outlast the broker's restart.
    pub max_attempts: u32,
    pub source: &'a str,
}

impl BrokerRoute<'_> {
    /// The `[[destinations]]` and `[[sources]]` tables of the route, with a circuit that
    /// closes again quickly once the broker is back.
    pub fn config(&self) -> String {
        let BrokerRoute {
            id,
            kind,
            url,
            target,
            max_attempts,
            source,
        } = self;
        format!(
            r#"
[[destinations]]
id = "{id}"
kind = "{kind}"
url = "{url}"
{target}
timeout_ms = 2000
max_attempts = {max_attempts}
backoff_base_ms = 50
backoff_max_ms = 500
circuit = {{ failure_threshold = 5, cool_down_ms = 200, max_cool_down_ms = 1000 }}

[[sources]]
id = "{source}"
provider = "github"
secrets = [{:?}]
destinations = ["{id}"]
"#,
            secrets::GITHUB
        )
    }
}

/// A broker of the test's own.
pub trait Broker {
    /// Kills it, as a crash would.
    fn kill(&mut self);
    /// Starts it again where it was.
    fn start_again(&mut self);
}

/// Posts `count` new events to `source`; each must be acknowledged (the broker is not in the
/// ingest path).
pub async fn send_events(ingest: String, source: &'static str, count: usize, sent: Sent) {
    for _ in 0..count {
        let body = unique_body();
        let delivery = Uuid::now_v7().to_string();
        let headers = sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
        let mut request = http()
            .post(format!("{ingest}/webhooks/{source}"))
            .body(body.clone());
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("hookgate answers");
        assert_eq!(
            response.status(),
            202,
            "the broker is not in the ingest path"
        );
        let id = json(response).await["id"].as_str().unwrap().to_owned();
        sent.lock().unwrap().insert(id, body.into_bytes());
    }
}

/// Starts hookgate with the test config plus `destination` (its broker destination and the
/// source `published`), posts 10 events while the broker lacks where they go, and waits until
/// three attempts failed with an error containing `error`.
pub async fn start_before_the_broker_is_ready(destination: &str, error: &str) -> (TestApp, Sent) {
    let database = create_database(&server_url()).await;
    let text = default_config_text(&database.url) + destination;
    let app = start(&text, database, hookgate::app::Role::default()).await;
    let sent: Sent = Arc::default();
    send_events(app.ingest.clone(), "published", 10, sent.clone()).await;
    let failed = format!("SELECT count(*) FROM delivery_attempts WHERE error LIKE '%{error}%'");
    app.wait_count(&failed, 3, Duration::from_secs(30)).await;
    (app, sent)
}

/// Posts `count` events from `senders` tasks while `broker` dies a third of the way in and
/// comes back two seconds later.
pub async fn send_through_outage(
    ingest: &str,
    source: &'static str,
    (count, senders): (usize, usize),
    sent: &Sent,
    broker: &mut impl Broker,
) {
    let already = sent.lock().unwrap().len();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let sending = send_events(ingest.to_owned(), source, count / senders, sent.clone());
            tokio::spawn(sending)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent.lock().unwrap().len() < already + count / 3 {
        assert!(Instant::now() < deadline, "ingest stalled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    broker.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.start_again();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Waits (two minutes at most) until every acknowledged event is among what `read` finds in
/// the broker as (hookgate id, message); answers what it found last. Gives up naming a few
/// missing events with their deliveries as `app`'s admin API shows them (status, attempts,
/// last error), so a failure says whether hookgate counts them delivered.
pub async fn wait_for_every_event<M>(
    app: &TestApp,
    sent: &HashMap<String, Vec<u8>>,
    mut read: impl AsyncFnMut() -> Vec<(String, M)>,
) -> Vec<(String, M)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found = read().await;
        let ids: std::collections::HashSet<&str> =
            found.iter().map(|(id, _)| id.as_str()).collect();
        let missing: Vec<&String> = sent
            .keys()
            .filter(|id| !ids.contains(id.as_str()))
            .collect();
        if missing.is_empty() {
            return found;
        }
        if Instant::now() >= deadline {
            let mut deliveries = Vec::new();
            for id in missing.iter().take(3) {
                let event = json(app.admin_get(&format!("/admin/events/{id}")).await).await;
                deliveries.push(format!("{id}: {}", event["deliveries"]));
            }
            panic!(
                "{} of {} events in the broker ({} messages read); missing, e.g.: {deliveries:#?}",
                ids.len(),
                sent.len(),
                found.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Prints the test's figures line (acknowledged, present, messages, duplicates, failed
/// attempts) after checking that the outage was felt: attempts failed and were retried.
pub async fn report<M>(name: &str, app: &TestApp, acked: usize, found: &[(String, M)]) {
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for (id, _) in found {
        *copies.entry(id.as_str()).or_default() += 1;
    }
    let failed = app
        .count("SELECT count(*) FROM delivery_attempts WHERE error IS NOT NULL")
        .await;
    assert!(failed > 0, "no attempt failed: the broker was never down");
    crate::drill::figures(
        name,
        &[
            ("acked", acked.to_string()),
            ("present", copies.len().to_string()),
            ("messages", found.len().to_string()),
            (
                "duplicates",
                copies.values().filter(|&&n| n > 1).count().to_string(),
            ),
            ("failed_attempts", failed.to_string()),
        ],
    );
}
