//! hookgate's own listeners over TLS (`[server] tls`, `admin_tls`): HTTPS ingest and admin,
//! renewed certificates served after `SIGHUP` without dropping open connections, and
//! `check-config`'s look at every certificate and key file a config names.

use crate::certs::{Minted, TestCa};
use crate::cli::{check_config, run_with_config};
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::process::ServeProcess;
use hookgate::app::Role;
use hookgate::config::ClientTlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConnection, StreamOwned};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The names every listener certificate of these tests is issued for.
const NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// `config` with `[server] tls` (ingest) and `admin_tls` serving these certificates.
fn with_listener_tls(config: &str, ingest: Option<&Minted>, admin: Option<&Minted>) -> String {
    let mut server = String::from("[server]\n");
    for (key, minted) in [("tls", ingest), ("admin_tls", admin)] {
        if let Some(minted) = minted {
            server.push_str(&format!(
                "{key} = {{ cert_file = {:?}, key_file = {:?} }}\n",
                minted.cert_file, minted.key_file
            ));
        }
    }
    config.replacen("[server]\n", &server, 1)
}

/// `config` with its first destination at an `https://` URL trusting `ca_file`.
fn with_https_destination(config: &str, ca_file: &std::path::Path) -> String {
    config.replacen(
        "url = \"http://127.0.0.1:9/\"",
        &format!("url = \"https://billing.internal/hooks\"\ntls = {{ ca_file = {ca_file:?} }}"),
        1,
    )
}

/// The `https://` base URL of a listener hookgate reports as `http://ADDRESS`.
fn https(base: &str) -> String {
    base.replacen("http://", "https://", 1)
}

fn der(minted: &Minted) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(minted.cert_pem.as_bytes()).unwrap()
}

fn client_files(ca: &TestCa) -> ClientTlsConfig {
    ClientTlsConfig {
        ca_file: Some(ca.ca_file.clone()),
        ..ClientTlsConfig::default()
    }
}

/// Writes `renewed`'s certificate and key over `current`'s files, as a renewal does.
fn renew(current: &Minted, renewed: &Minted) {
    std::fs::write(&current.cert_file, &renewed.cert_pem).unwrap();
    std::fs::write(&current.key_file, &renewed.key_pem).unwrap();
}

/// A certificate of `ca` paired with the key of another one.
fn with_another_key(ca: &TestCa) -> Minted {
    let server = ca.server("server", &NAMES);
    let other = ca.server("other", &NAMES);
    Minted {
        key_file: other.key_file,
        ..server
    }
}

/// One TLS connection made by hand (HTTP/1.1, kept alive), to see the certificate the server
/// presented and to reuse the very same connection across a reload.
struct TlsConnection(BufReader<StreamOwned<ClientConnection, TcpStream>>);

impl TlsConnection {
    /// Connects to the listener at `base` and completes the handshake, trusting `ca`.
    fn open(base: &str, ca: &TestCa) -> TlsConnection {
        let mut config = hookgate::tls::client::client_config(&client_files(ca)).unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = ServerName::try_from("localhost").unwrap();
        let connection = ClientConnection::new(Arc::new(config), name).unwrap();
        let socket = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut stream = StreamOwned::new(connection, socket);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).unwrap();
        }
        TlsConnection(BufReader::new(stream))
    }

    /// The leaf certificate the server presented on this connection.
    fn peer_certificate(&self) -> CertificateDer<'static> {
        let certificates = self.0.get_ref().conn.peer_certificates().unwrap();
        certificates[0].clone().into_owned()
    }

    /// GETs `path` on this connection, leaving it open; answers the status.
    fn get(&mut self, path: &str) -> u16 {
        let stream = self.0.get_mut();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        stream.flush().unwrap();
        let status = self.line();
        let mut length = 0;
        loop {
            let line = self.line();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        self.0.read_exact(&mut vec![0; length]).unwrap();
        status.split(' ').nth(1).unwrap().parse().unwrap()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.0.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the server closed the connection");
        line.trim_end().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_over_https_is_accepted_and_the_admin_api_answers_over_tls() {
    let ca = TestCa::new("hookgate test CA");
    let ingest = ca.server("ingest", &NAMES);
    let admin = ca.server("admin", &NAMES);
    let database = create_database(&server_url()).await;
    let text = with_listener_tls(&default_config_text(&database), Some(&ingest), Some(&admin));
    let app = start(&text, database, Role::All).await;
    let client = hookgate::tls::client::http_client_builder(&client_files(&ca))
        .unwrap()
        .build()
        .unwrap();

    let body = unique_body();
    let mut request = client
        .post(format!("{}/webhooks/stripe", https(&app.ingest)))
        .body(body.clone());
    for (name, value) in sign::stripe(secrets::STRIPE, body.as_bytes(), now()) {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 202);

    let events = client
        .get(format!("{}/admin/events", https(&app.admin)))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(json(events).await["events"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[test]
fn after_sighup_new_connections_get_the_renewed_certificates_and_open_ones_keep_working() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(create_database(&server_url()));
    let ca = TestCa::new("hookgate test CA");
    let (ingest, admin) = (ca.server("ingest", &NAMES), ca.server("admin", &NAMES));
    let text = with_listener_tls(&default_config_text(&database), Some(&ingest), Some(&admin));
    let mut process = ServeProcess::start(&text);
    let served = |base: &str| TlsConnection::open(base, &ca).peer_certificate();
    let mut kept = TlsConnection::open(&process.ingest, &ca);
    assert_eq!(kept.get("/healthz"), 200);
    assert_eq!(kept.peer_certificate(), der(&ingest));
    assert_eq!(served(&process.admin), der(&admin));

    let renewed_ingest = ca.server("ingest-renewed", &NAMES);
    let renewed_admin = ca.server("admin-renewed", &NAMES);
    renew(&ingest, &renewed_ingest);
    renew(&admin, &renewed_admin);
    process.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(30);
    while served(&process.ingest) != der(&renewed_ingest)
        || served(&process.admin) != der(&renewed_admin)
    {
        assert!(
            Instant::now() < deadline,
            "the renewed certificates are not served"
        );
        assert_eq!(kept.get("/healthz"), 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        kept.get("/healthz"),
        200,
        "the open connection survives the reload"
    );
    assert_eq!(kept.peer_certificate(), der(&ingest));

    process.signal("TERM");
    let status = process.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");
    let logs = process.remaining_logs();
    for key in ["server.tls", "server.admin_tls"] {
        let reloaded = format!("{key}: certificate reloaded");
        assert!(
            logs.iter()
                .any(|l| l.contains("INFO") && l.contains(&reloaded)),
            "no {reloaded:?} in {logs:#?}"
        );
    }
}

#[test]
fn check_config_names_the_key_and_file_of_each_unusable_certificate_or_key() {
    let ca = TestCa::new("hookgate test CA");
    let mismatched = with_another_key(&ca);
    let expired = ca.expired_server("expired", &NAMES);
    let not_pem_file = mismatched.cert_file.with_file_name("not-pem.crt");
    std::fs::write(&not_pem_file, "not a certificate\n").unwrap();
    let not_pem = Minted {
        cert_file: not_pem_file.clone(),
        ..mismatched.clone()
    };
    let valid = default_config_text("postgres://x@127.0.0.1/db");
    let cases = [
        (
            with_listener_tls(&valid, Some(&mismatched), None),
            "server.tls.key_file",
            &mismatched.key_file,
            "is not the private key of",
        ),
        (
            with_listener_tls(&valid, None, Some(&not_pem)),
            "server.admin_tls.cert_file",
            &not_pem_file,
            "holds no certificates",
        ),
        (
            with_https_destination(&valid, &not_pem_file),
            r#"destinations[0] ("billing").tls.ca_file"#,
            &not_pem_file,
            "holds no certificates",
        ),
        (
            with_listener_tls(&valid, Some(&expired), None),
            "server.tls.cert_file",
            &expired.cert_file,
            "expired on",
        ),
    ];
    for (text, key, file, what) in cases {
        let (ok, output) = check_config(&text);
        assert!(!ok, "accepted a config that should fail at {key}");
        let expected = format!("{key}: ");
        assert!(
            output.contains(&expected),
            "expected {expected:?} in:\n{output}"
        );
        assert!(output.contains(&file.display().to_string()), "{output}");
        assert!(output.contains(what), "expected {what:?} in:\n{output}");
    }
}

#[test]
fn check_config_warns_of_a_certificate_ending_within_two_weeks_and_passes() {
    let ca = TestCa::new("hookgate test CA");
    let expiring = ca.server_expiring_in("expiring", &NAMES, 5);
    let text = with_listener_tls(
        &default_config_text("postgres://x@127.0.0.1/db"),
        Some(&expiring),
        None,
    );
    let (ok, output) = check_config(&with_https_destination(&text, &ca.ca_file));
    assert!(ok, "{output}");
    let expected = format!(
        "server.tls.cert_file: the certificate in {} expires on ",
        expiring.cert_file.display()
    );
    let warning = output
        .lines()
        .find(|line| line.contains(&expected))
        .unwrap_or_else(|| panic!("expected {expected:?} in:\n{output}"));
    assert!(warning.starts_with("warning: "), "{warning}");
    assert!(warning.ends_with("(in 5 days): renew it"), "{warning}");
    assert!(
        output.contains("ok (9 sources, 2 destinations)"),
        "{output}"
    );
}

#[test]
fn serve_refuses_to_start_when_a_listener_key_does_not_match_its_certificate() {
    let ca = TestCa::new("hookgate test CA");
    let mismatched = with_another_key(&ca);
    let text = with_listener_tls(
        &default_config_text("postgres://x@127.0.0.1/db"),
        None,
        Some(&mismatched),
    );
    let (ok, output) = run_with_config("serve", &text);
    assert!(!ok, "{output}");
    assert!(output.contains("server.admin_tls.key_file: "), "{output}");
    assert!(
        output.contains(&mismatched.key_file.display().to_string()),
        "{output}"
    );
}
