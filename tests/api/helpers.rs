//! Starts a real hookgate against a fresh database (and a private Redis key prefix) per test.

use hookgate::app::{Application, Role, ServeOptions};
use hookgate::config::Config;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The Postgres server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The Redis tests use, each under its own key prefix.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A plain HTTP client for talking to the hookgate under test. reqwest is built without a
/// crypto provider of its own, so the process default (hookgate's) is installed first.
pub fn http() -> reqwest::Client {
    hookgate::tls::install_default_provider();
    reqwest::Client::new()
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("DATABASE_URL is a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// A database made for one test, dropped (with any connection still open to it) when the
/// last handle to it goes, so a run leaves nothing behind even when a test fails. Its name
/// starts with `hgtest_<run>_`: [`run_id`] lets `scripts/test` clean up after a run that was
/// killed without touching the databases of another run on the same server.
#[derive(Clone)]
pub struct TestDatabase {
    pub url: String,
    _dropper: std::sync::Arc<DropDatabase>,
}

impl std::ops::Deref for TestDatabase {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

impl std::fmt::Display for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

struct DropDatabase {
    server: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server).await?;
                admin
                    .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("test database {} was not dropped", self.name);
        }
    }
}

/// This test run's id: `HOOKGATE_TEST_RUN` (set by `scripts/test`), else one per process.
pub fn run_id() -> &'static str {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        std::env::var("HOOKGATE_TEST_RUN")
            .ok()
            .filter(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or_else(|| Uuid::now_v7().simple().to_string()[24..].to_owned())
    })
}

/// Creates an empty database with a unique name on the server at `server`.
pub async fn create_database(server: &str) -> TestDatabase {
    let name = format!("hgtest_{}_{}", run_id(), Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(server)
        .await
        .expect("connect to test Postgres");
    admin
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create test database");
    TestDatabase {
        url: with_database(server, &name),
        _dropper: std::sync::Arc::new(DropDatabase {
            server: server.to_owned(),
            name,
        }),
    }
}

pub fn providers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("providers")
}

/// Secrets the test config gives each source, first the current one then the previous one.
pub mod secrets {
    pub const STRIPE: &str = "whsec_test_stripe_secret";
    pub const STRIPE_PREVIOUS: &str = "whsec_test_stripe_previous";
    pub const GITHUB: &str = "It's a Secret to Everybody";
    pub const SHOPIFY: &str = "shopify-test-secret";
    pub const SLACK: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    pub const STANDARD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    pub const RAZORPAY: &str = "razorpay-test-secret";
    pub const PADDLE: &str = "pdl_ntfset_test_secret";
    pub const SQUARE: &str = "square-signature-key";
    pub const TWILIO: &str = "12345";

    /// Every secret above that can be searched for (Twilio's `12345` also occurs in
    /// timestamps and ids): what no log line, answer or page may ever contain.
    pub const ALL: [&str; 9] = [
        STRIPE,
        STRIPE_PREVIOUS,
        GITHUB,
        SHOPIFY,
        SLACK,
        STANDARD,
        RAZORPAY,
        PADDLE,
        SQUARE,
    ];
}

/// A destination of the test config: its URL and extra `key = value` lines.
#[derive(Clone)]
pub struct Dest {
    pub url: String,
    pub settings: String,
}

impl Dest {
    pub fn at(url: &str, settings: &str) -> Dest {
        Dest {
            url: url.to_owned(),
            settings: settings.to_owned(),
        }
    }
}

impl Dest {
    /// A pull destination (no URL) whose consumers present [`CONSUMER_TOKEN`] or
    /// [`CONSUMER_TOKEN_PREVIOUS`], with extra `settings` lines.
    pub fn pull(settings: &str) -> Dest {
        Dest::at(
            "",
            &format!(
                "kind = \"pull\"\nconsumer_tokens = [\"{CONSUMER_TOKEN}\", \"{CONSUMER_TOKEN_PREVIOUS}\"]\n{settings}"
            ),
        )
    }

    /// `url = "…"`, or nothing for a pull destination.
    fn url_line(&self) -> String {
        match self.url.is_empty() {
            true => String::new(),
            false => format!("url = \"{}\"", self.url),
        }
    }
}

/// The consumer tokens of a [`Dest::pull`] destination, current and previous.
pub const CONSUMER_TOKEN: &str = "test-consumer-token";
pub const CONSUMER_TOKEN_PREVIOUS: &str = "test-consumer-token-previous";

impl Default for Dest {
    /// Nothing listens on port 9: deliveries there fail and are retried.
    fn default() -> Dest {
        Dest::at("http://127.0.0.1:9/", "")
    }
}

/// [`config_text`] with both destinations unreachable.
pub fn default_config_text(database_url: &str) -> String {
    config_text(database_url, &Dest::default(), &Dest::default(), "")
}

/// The test config: one source per shipped provider (source id = provider name), fanning
/// out to the destinations `billing` and `ledger`, a small body limit; `extra` is appended
/// verbatim.
pub fn config_text(database_url: &str, billing: &Dest, ledger: &Dest, extra: &str) -> String {
    use secrets::*;
    let providers = providers_dir();
    let mut text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
max_body_bytes = 65536
providers_dir = "{providers}"

[database]
url = "{database_url}"
max_connections = 8

[admin]
token = "test-admin-token"

[[destinations]]
id = "billing"
{billing_url}
{billing_settings}

[[destinations]]
id = "ledger"
{ledger_url}
{ledger_settings}
"#,
        providers = providers.display(),
        billing_url = billing.url_line(),
        billing_settings = billing.settings,
        ledger_url = ledger.url_line(),
        ledger_settings = ledger.settings,
    );
    let sources: [(&str, Vec<&str>); 9] = [
        ("stripe", vec![STRIPE, STRIPE_PREVIOUS]),
        ("github", vec![GITHUB]),
        ("shopify", vec![SHOPIFY]),
        ("slack", vec![SLACK]),
        ("standard-webhooks", vec![STANDARD]),
        ("razorpay", vec![RAZORPAY]),
        ("paddle", vec![PADDLE]),
        ("square", vec![SQUARE]),
        ("twilio", vec![TWILIO]),
    ];
    for (id, secrets) in sources {
        let secrets: Vec<String> = secrets.iter().map(|s| format!("{s:?}")).collect();
        text.push_str(&format!(
            "\n[[sources]]\nid = \"{id}\"\nprovider = \"{id}\"\nsecrets = [{}]\ndestinations = [\"billing\", \"ledger\"]\n",
            secrets.join(", ")
        ));
    }
    text.push_str(extra);
    text
}

/// For [`wait_count`]: how many deliveries are dead.
pub const DEAD_DELIVERIES: &str = "SELECT count(*) FROM deliveries WHERE state = 'dead'";

/// Waits until `sql` (a count) on `db` answers at least `n` (panics after `within`).
pub async fn wait_count(db: &PgPool, sql: &str, n: i64, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let count: i64 = sqlx::query_scalar(sql).fetch_one(db).await.unwrap();
        if count >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{sql}: {count} of {n} within {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct TestOptions {
    /// Use Redis (under a fresh key prefix), or this Redis URL.
    pub redis: Option<String>,
    /// Postgres server to create the database on (default: [`server_url`]).
    pub server: Option<String>,
    /// TOML appended to the config.
    pub extra_config: String,
    pub billing: Dest,
    pub ledger: Dest,
    pub role: Role,
}

/// A running hookgate and handles to look behind it.
pub struct TestApp {
    pub ingest: String,
    pub admin: String,
    pub database_url: String,
    /// Keeps the database until the last app on it and every other handle are gone.
    pub database: TestDatabase,
    pub db: PgPool,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    let server = options.server.clone().unwrap_or_else(server_url);
    let database = create_database(&server).await;
    let mut extra = options.extra_config.clone();
    if let Some(redis) = &options.redis {
        extra.push_str(&format!(
            "\n[redis]\nurl = \"{redis}\"\nkey_prefix = \"hgtest:{}:\"\n",
            Uuid::now_v7().simple()
        ));
    }
    let text = config_text(&database.url, &options.billing, &options.ledger, &extra);
    start(&text, database, options.role).await
}

/// Starts another hookgate on an existing database.
pub async fn start(config_text: &str, database: TestDatabase, role: Role) -> TestApp {
    let config = Config::parse(Path::new("test.toml"), config_text, Rc::new(|_| None))
        .expect("test config is valid");
    let options = ServeOptions {
        role,
        ..ServeOptions::default()
    };
    let app = Application::build(config, Path::new("test.toml"), options)
        .await
        .expect("hookgate starts");
    let ingest = app
        .ingest_addr()
        .map_or_else(String::new, |addr| format!("http://{addr}"));
    let admin = format!("http://{}", app.admin_addr());
    let shutdown = app.shutdown_token();
    let task = tokio::spawn(app.run());
    TestApp {
        ingest,
        admin,
        db: PgPool::connect(&database.url)
            .await
            .expect("connect to test database"),
        database_url: database.url.clone(),
        database,
        http: http(),
        shutdown,
        task: Some(task),
    }
}

impl TestApp {
    /// POSTs `body` with `headers` to `/webhooks/{source}`.
    pub async fn post(
        &self,
        source: &str,
        headers: &[(String, String)],
        body: impl Into<Vec<u8>>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/webhooks/{source}", self.ingest))
            .body(body.into());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send().await.expect("request reaches hookgate")
    }

    /// The URL a provider that signs URLs would have signed for `source`.
    pub fn webhook_url(&self, source: &str) -> String {
        format!("{}/webhooks/{source}", self.ingest)
    }

    /// Waits until `sql` (a count) reaches `n`.
    pub async fn wait_count(&self, sql: &str, n: i64, within: std::time::Duration) {
        wait_count(&self.db, sql, n, within).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db)
            .await
            .expect("count query")
    }

    /// Stops gracefully and waits until it has.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("app task").expect("clean shutdown");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The admin token of the test config.
pub const ADMIN_TOKEN: &str = "test-admin-token";

impl TestApp {
    /// GETs an admin `path` (starting with `/admin`) with the admin token.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request reaches the admin listener")
    }

    /// The delivery of event `event_id` to `destination`, as `GET /admin/events/{id}` shows it.
    pub async fn admin_delivery(&self, event_id: &str, destination: &str) -> serde_json::Value {
        let event = json(self.admin_get(&format!("/admin/events/{event_id}")).await).await;
        event["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .find(|d| d["destination"] == destination)
            .unwrap_or_else(|| panic!("no delivery to {destination}: {event}"))
            .clone()
    }

    /// POSTs a new signed GitHub event (fresh delivery id and body).
    pub async fn post_new_github(&self) -> reqwest::Response {
        let body = unique_body();
        let delivery = Uuid::now_v7().to_string();
        let signed = crate::independent_sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
        self.post("github", &signed, body).await
    }

    /// Posts a GitHub event of `event_type` with exactly `body` and `content_type`; answers its
    /// hookgate id.
    pub async fn post_github_event(
        &self,
        event_type: &str,
        body: &[u8],
        content_type: &str,
    ) -> String {
        let delivery = Uuid::now_v7().to_string();
        let mut signed = crate::independent_sign::github(secrets::GITHUB, body, &delivery);
        for (name, value) in signed.iter_mut() {
            if name.eq_ignore_ascii_case("x-github-event") {
                *value = event_type.to_owned();
            } else if name.eq_ignore_ascii_case("content-type") {
                *value = content_type.to_owned();
            }
        }
        let response = self.post("github", &signed, body.to_vec()).await;
        assert_eq!(response.status(), 202, "POST github {event_type}");
        json(response).await["id"].as_str().unwrap().to_owned()
    }

    /// Posts new events until one is acknowledged (each refusal must be a 503) within 30 s,
    /// as storage comes back: recovery without a restart.
    pub async fn wait_until_accepting(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let status = self.post_new_github().await.status();
            if status == 202 {
                return;
            }
            assert_eq!(status, 503);
            assert!(
                std::time::Instant::now() < deadline,
                "no recovery within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// `GET /readyz` on the admin listener.
    pub async fn readyz(&self) -> reqwest::Response {
        self.http
            .get(format!("{}/readyz", self.admin))
            .send()
            .await
            .expect("request reaches the admin listener")
    }

    /// POSTs `body` to an admin `path` with the admin token.
    pub async fn admin_post(&self, path: &str, body: impl Into<Vec<u8>>) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .body(body.into())
            .send()
            .await
            .expect("request reaches the admin listener")
    }
}

/// The Prometheus text of the admin listener at `admin`.
pub async fn metrics_text(admin: &str) -> String {
    http()
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text")
}

/// Unix time now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A JSON body with a fresh event id in the fields providers keep it in.
pub fn unique_body() -> String {
    let id = Uuid::now_v7().simple().to_string();
    serde_json::json!({
        "id": format!("evt_{id}"),
        "event_id": format!("evt_{id}"),
        "type": "invoice.paid",
        "event": "payment.captured",
        "event_type": "transaction.completed",
        "data": {"amount": 4200, "currency": "eur"}
    })
    .to_string()
}

/// Response body as JSON.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

/// Headers as owned pairs.
pub fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A GitHub push event of `body` with one delivery to "billing" (ordered by `key`, if any), as
/// ingest would store it: for tests that fill the queue through the store.
pub fn queued_event(body: bytes::Bytes, key: Option<&str>) -> hookgate::store::NewEvent {
    hookgate::store::NewEvent {
        id: Uuid::now_v7(),
        source_id: "github".into(),
        event_id: Uuid::now_v7().to_string(),
        event_type: Some("push".into()),
        received_at: time::OffsetDateTime::now_utc(),
        content_type: Some("application/json".into()),
        headers_json: "{}".into(),
        body,
        deliveries: vec![hookgate::store::NewDelivery {
            id: Uuid::now_v7(),
            destination_id: "billing".into(),
            lease: None,
            ordering_key: key.map(str::to_owned),
        }],
        filtered: Vec::new(),
    }
}

/// An ingest-only hookgate on a fresh database with `server_line` added to `[server]`;
/// answers it and its database URL.
pub async fn start_ingest_with(server_line: &str) -> (TestApp, TestDatabase) {
    let database_url = create_database(&server_url()).await;
    let text = config_text(&database_url, &Dest::default(), &Dest::default(), "").replace(
        "max_body_bytes = 65536",
        &format!("max_body_bytes = 65536\n{server_line}"),
    );
    assert!(text.contains(server_line));
    let app = start(&text, database_url.clone(), Role::Ingest).await;
    (app, database_url)
}
