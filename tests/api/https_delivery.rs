//! Deliveries to HTTPS destinations served by real TLS servers with certificates minted by the
//! test: a private CA named in `ca_file`, certificates that do not verify (each named in the
//! attempt's error, and retried), mutual TLS, HTTP/2 on one kept connection; and `serve`
//! refusing to start with a destination's unusable TLS file.

use crate::certs::{Minted, TestCa};
use crate::delivery::{FAST, app_with, post_event, wait_state};
use crate::helpers::*;
use crate::sink::{Reply, Sink, SinkTls};
use actix_web::http::Version;
use hookgate::app::{Application, ServeOptions};
use hookgate::config::Config;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

/// The names the test sinks' certificates are issued for: the sinks listen on 127.0.0.1.
pub const SINK_NAMES: &[&str] = &["127.0.0.1", "localhost"];

/// A destination's `tls = { … }` trusting `ca` and, when given, presenting `client`.
pub fn tls_setting(ca: &TestCa, client: Option<&Minted>) -> String {
    let mut files = vec![format!("ca_file = {:?}", ca.ca_file)];
    if let Some(client) = client {
        files.push(format!("client_cert_file = {:?}", client.cert_file));
        files.push(format!("client_key_file = {:?}", client.key_file));
    }
    format!("tls = {{ {} }}", files.join(", "))
}

/// An HTTPS sink accepting everything with 200.
fn https_sink(tls: SinkTls) -> Sink {
    Sink::start_https(Vec::new(), Reply::status(200), tls)
}

/// The error of each attempt of `event`'s delivery to `destination`, in order, as the admin
/// API shows them.
async fn attempt_errors(app: &TestApp, event: &str, destination: &str) -> Vec<String> {
    let detail = json(app.admin_get(&format!("/admin/events/{event}")).await).await;
    let delivery = detail["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|delivery| delivery["destination"] == destination)
        .unwrap_or_else(|| panic!("no delivery to {destination}: {detail}"));
    delivery["attempt_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["error"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Delivers one event to an HTTPS sink serving `tls`, billing configured with `settings`
/// and two attempts at most; once the delivery is dead, checks the sink got nothing and that
/// both attempts were made (a certificate error is retried), and answers the first attempt's
/// error.
async fn refused_first_attempt(tls: SinkTls, settings: &str) -> String {
    let sink = https_sink(tls);
    let billing = Dest::at(&sink.url, &format!("{FAST}\nmax_attempts = 2\n{settings}"));
    let app = app_with(billing, Dest::default()).await;
    let (event, _) = post_event(&app).await;
    assert_eq!(wait_state(&app, &event, "billing", "dead").await, 2);
    let errors = attempt_errors(&app, &event, "billing").await;
    app.stop().await;
    assert_eq!(sink.count(), 0, "nothing reached the sink");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[1].starts_with("exhausted after 2 attempts; last: tls: "),
        "{errors:?}"
    );
    errors[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_in_ca_file_gets_deliveries_through_over_http2_on_one_kept_connection() {
    let ca = TestCa::new("hookgate test CA");
    let sink = https_sink(SinkTls::serving(ca.server("sink", SINK_NAMES)));
    let billing = Dest::at(
        &sink.url,
        &format!("concurrency = 1\n{}", tls_setting(&ca, None)),
    );
    let app = app_with(billing, Dest::default()).await;
    let mut bodies = Vec::new();
    for _ in 0..3 {
        bodies.push(post_event(&app).await.1);
    }
    let received = sink.wait_for(3, WAIT).await;
    for (got, body) in received.iter().zip(&bodies) {
        assert_eq!(got.body, body.as_bytes());
        assert_eq!(got.version, Version::HTTP_2, "the sink offers HTTP/2");
    }
    assert_eq!(
        sink.connections(),
        1,
        "one handshake, then the kept connection"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_private_ca_the_attempt_is_retried_and_names_the_unknown_issuer() {
    let ca = TestCa::new("hookgate test CA");
    let error = refused_first_attempt(SinkTls::serving(ca.server("sink", SINK_NAMES)), "").await;
    assert!(error.starts_with("tls: unknown issuer: "), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_named_in_the_attempts_error() {
    let ca = TestCa::new("hookgate test CA");
    let expired = ca.expired_server("sink", SINK_NAMES);
    let error = refused_first_attempt(SinkTls::serving(expired), &tls_setting(&ca, None)).await;
    assert!(
        error.starts_with("tls: certificate expired (not valid after "),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_named_in_the_attempts_error() {
    let ca = TestCa::new("hookgate test CA");
    let other = ca.server("sink", &["other.internal"]);
    let error = refused_first_attempt(SinkTls::serving(other), &tls_setting(&ca, None)).await;
    assert_eq!(
        error,
        r#"tls: certificate is not valid for name 127.0.0.1; it is valid for DnsName("other.internal")"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_requiring_a_client_certificate_takes_ours_and_refuses_a_destination_without() {
    let ca = TestCa::new("hookgate test CA");
    let client = ca.client("hookgate-client", "hookgate");
    let sink = https_sink(SinkTls {
        client_ca: Some(ca.ca_file.clone()),
        ..SinkTls::serving(ca.server("sink", SINK_NAMES))
    });
    let billing = Dest::at(&sink.url, &tls_setting(&ca, Some(&client)));
    let ledger = Dest::at(
        &sink.url,
        &format!("{FAST}\nmax_attempts = 2\n{}", tls_setting(&ca, None)),
    );
    let app = app_with(billing, ledger).await;
    let (event, _) = post_event(&app).await;
    assert_eq!(wait_state(&app, &event, "billing", "delivered").await, 1);
    assert_eq!(wait_state(&app, &event, "ledger", "dead").await, 2);
    assert_eq!(
        sink.count(),
        1,
        "only the delivery with the certificate got in"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_asking_for_a_client_certificate_is_named_in_the_attempts_error() {
    let ca = TestCa::new("hookgate test CA");
    let tls = SinkTls {
        client_ca: Some(ca.ca_file.clone()),
        tls12_only: true,
        ..SinkTls::serving(ca.server("sink", SINK_NAMES))
    };
    let error = refused_first_attempt(tls, &tls_setting(&ca, None)).await;
    assert!(
        error.starts_with("tls: the server requires a client certificate"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_when_a_destinations_client_key_is_not_its_certificates() {
    let ca = TestCa::new("hookgate test CA");
    let client = ca.client("hookgate-client", "hookgate");
    let other = ca.client("other", "other");
    let mismatched = Minted {
        key_file: other.key_file.clone(),
        ..client.clone()
    };
    let billing = Dest::at(
        "https://billing.internal/hooks",
        &tls_setting(&ca, Some(&mismatched)),
    );
    let database = create_database(&server_url()).await;
    let text = config_text(&database.url, &billing, &Dest::default(), "");
    let config = Config::parse(Path::new("test.toml"), &text, Rc::new(|_| None)).unwrap();
    let started = Application::build(config, Path::new("test.toml"), ServeOptions::default());
    let Err(err) = started.await else {
        panic!("started with a client key that is not its certificate's");
    };
    let expected = format!(
        "destinations \"billing\": tls: {} is not the private key of {}",
        other.key_file.display(),
        client.cert_file.display()
    );
    assert!(format!("{err:#}").contains(&expected), "{err:#}");
}
