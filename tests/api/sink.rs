//! A real HTTP destination for delivery tests: records every request and answers from a
//! script (then with a default), optionally after a delay. Counts concurrent requests and
//! connections. Served over plain HTTP, or over HTTPS (HTTP/2 offered) with a certificate
//! minted by the test and, for mutual TLS, a CA whose client certificates it requires.

use crate::certs::Minted;
use actix_web::http::Version;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hookgate::tls::pem::{load_certificates, load_private_key};
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    /// When the sink sent its answer (unset while it is still answering).
    pub answered: Arc<OnceLock<Instant>>,
    /// The status it answered with.
    pub status: u16,
    pub version: Version,
    /// The request's path and query.
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or_else(|| panic!("header {name} missing: {:?}", self.headers))
    }
}

/// How the sink answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    fallback: Mutex<Option<Reply>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    connections: AtomicUsize,
}

/// How an HTTPS sink identifies itself, and whom it lets in.
pub struct SinkTls {
    /// The certificate it serves.
    pub cert: Minted,
    /// When set, a client must present a certificate issued by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// Speak TLS 1.2 only. There a client certificate is checked before the client's
    /// handshake ends, so a refusal always fails the handshake with the server's alert; in
    /// TLS 1.3 it arrives after, and may be lost to the connection's reset.
    pub tls12_only: bool,
}

impl SinkTls {
    /// Serves `cert` to any client.
    pub fn serving(cert: Minted) -> SinkTls {
        SinkTls {
            cert,
            client_ca: None,
            tls12_only: false,
        }
    }

    fn server_config(&self) -> rustls::ServerConfig {
        let provider = hookgate::tls::crypto_provider();
        let versions: &[_] = match self.tls12_only {
            true => &[&rustls::version::TLS12],
            false => rustls::DEFAULT_VERSIONS,
        };
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .unwrap();
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca_file) => {
                let mut roots = RootCertStore::empty();
                hookgate::tls::roots::add_ca_file(&mut roots, ca_file).unwrap();
                let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
        };
        builder
            .with_single_cert(
                load_certificates(&self.cert.cert_file).unwrap(),
                load_private_key(&self.cert.key_file).unwrap(),
            )
            .unwrap()
    }
}

pub struct Sink {
    pub url: String,
    state: Arc<State>,
    server: actix_web::dev::ServerHandle,
}

impl Sink {
    /// A sink answering `script` in order, then `fallback` for every later request.
    pub fn start(script: Vec<Reply>, fallback: Reply) -> Sink {
        Sink::serve(script, fallback, None)
    }

    /// [`Sink::start`] over HTTPS, at `https://127.0.0.1:…/hook`.
    pub fn start_https(script: Vec<Reply>, fallback: Reply, tls: SinkTls) -> Sink {
        Sink::serve(script, fallback, Some(tls))
    }

    fn serve(script: Vec<Reply>, fallback: Reply, tls: Option<SinkTls>) -> Sink {
        let state = Arc::new(State::default());
        *state.script.lock().unwrap() = script.into();
        *state.fallback.lock().unwrap() = Some(fallback);
        let shared = web::Data::from(state.clone());
        let connected = state.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                // Deliveries of the largest webhooks (25 MiB) arrive whole.
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .default_service(web::to(receive))
        })
        .workers(2)
        .disable_signals()
        .on_connect(move |_, _| {
            connected.connections.fetch_add(1, Ordering::SeqCst);
        });
        let (server, scheme) = match tls {
            None => (server.listen(listener), "http"),
            Some(tls) => (
                server.listen_rustls_0_23(listener, tls.server_config()),
                "https",
            ),
        };
        let server = server.unwrap().run();
        let url = format!("{scheme}://{address}/hook");
        let handle = server.handle();
        tokio::spawn(server);
        Sink {
            url,
            state,
            server: handle,
        }
    }

    /// A sink that accepts everything with 200.
    pub fn ok() -> Sink {
        Sink::start(Vec::new(), Reply::status(200))
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Connections accepted so far (over HTTPS: completed handshakes).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "sink got {} of {n} requests within {within:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Sends the stop command at once; nothing needs to wait for the workers to exit.
        drop(self.server.stop(false));
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let now_in_flight = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state
        .max_in_flight
        .fetch_max(now_in_flight, Ordering::SeqCst);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let at = Instant::now();
    let reply = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| state.fallback.lock().unwrap().clone().unwrap());
    let answered = Arc::new(OnceLock::new());
    state.received.lock().unwrap().push(Received {
        at,
        answered: answered.clone(),
        status: reply.status,
        version: req.version(),
        path: req.uri().to_string(),
        headers,
        body: body.to_vec(),
    });
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    answered.set(Instant::now()).unwrap();
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(reply.status).unwrap());
    for (name, value) in reply.headers {
        response.insert_header((name, value));
    }
    response.body("sink says hello")
}
