//! Postgres and Redis over verified TLS: a throwaway Postgres cluster that accepts TCP only
//! over TLS, and a Redis that listens only on its TLS port, both serving certificates of a CA
//! the test mints.

use crate::certs::TestCa;
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::private_pg::PrivatePostgres;
use crate::private_redis::PrivateRedis;
use crate::process::{hookgate, temp_file};
use crate::sink::Sink;
use std::process::Stdio;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// Posts one new GitHub event; answers the response.
async fn post_github(app: &TestApp, delivery_id: &str, body: &str) -> reqwest::Response {
    let headers = sign::github(secrets::GITHUB, body.as_bytes(), delivery_id);
    app.post("github", &headers, body.to_owned()).await
}

fn tls_server_url(pg: &PrivatePostgres, ca: &TestCa, sslmode: &str) -> String {
    format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode={sslmode}&sslrootcert={}",
        pg.port(),
        ca.ca_file.display()
    )
}

#[tokio::test]
async fn hookgate_migrates_ingests_and_delivers_with_postgres_over_verify_full_tls() {
    let ca = TestCa::new("hookgate test CA");
    let cert = ca.server("postgres", &["127.0.0.1"]);
    let pg = PrivatePostgres::start_tls_only(&cert.cert_pem, &cert.key_pem);
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        server: Some(tls_server_url(&pg, &ca, "verify-full")),
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;

    let body = unique_body();
    let response = post_github(&app, &uuid::Uuid::now_v7().to_string(), &body).await;
    assert_eq!(response.status(), 202);
    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received[0].body, body.as_bytes());

    // pg_hba.conf admits TCP only over TLS, so every connection above used it; the server
    // confirms it for this one too.
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(ssl);
    app.stop().await;
}

#[test]
fn verify_full_against_a_certificate_for_another_name_fails_at_start_naming_it() {
    let ca = TestCa::new("hookgate test CA");
    let cert = ca.server("postgres", &["db.example.com"]);
    let pg = PrivatePostgres::start_tls_only(&cert.cert_pem, &cert.key_pem);
    let config = temp_file(&default_config_text(&tls_server_url(
        &pg,
        &ca,
        "verify-full",
    )));

    let started = Instant::now();
    let output = hookgate()
        .args(["serve", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("connecting to the database over TLS"),
        "{stderr}"
    );
    assert!(stderr.contains("db.example.com"), "{stderr}");
    // It gives up at once rather than waiting for a server that will never verify.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn deduplication_uses_redis_over_tls_with_a_private_ca() {
    let ca = TestCa::new("hookgate test CA");
    let redis = PrivateRedis::start_tls(&ca);
    let prefix = format!("hgtest:{}:", uuid::Uuid::now_v7().simple());
    let app = spawn_app_with(TestOptions {
        extra_config: format!(
            "\n[redis]\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\nca_file = \"{}\"\n",
            redis.url(),
            ca.ca_file.display()
        ),
        ..Default::default()
    })
    .await;

    let delivery_id = uuid::Uuid::now_v7().to_string();
    let body = unique_body();
    assert_eq!(post_github(&app, &delivery_id, &body).await.status(), 202);
    let again = post_github(&app, &delivery_id, &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(json(again).await["status"], "duplicate");

    let ready = app.readyz().await;
    let ready = json(ready).await;
    assert_eq!(ready["redis"], "up", "{ready}");
    // The accepted event's dedupe key is in this Redis, read back over TLS.
    let client = redis::Client::build_with_tls(
        redis.url(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(std::fs::read(&ca.ca_file).unwrap()),
        },
    )
    .unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}dedup:*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    app.stop().await;
}
