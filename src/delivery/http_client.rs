//! The HTTP client deliveries go out on: hyper's pooling client with rustls on top of
//! [`ProxyConnector`], rather than reqwest. reqwest's layers (its redirect and timeout
//! services, URL conversions, a connector cloned with every request) cost 7 µs of CPU per
//! request on this workload, a third of the whole client's cost (bench/RESULTS.md); deliveries
//! need none of them: one POST, no redirects, the timeout kept by the attempt.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Uri;
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue, PROXY_AUTHORIZATION};
use hyper::http::uri::InvalidUri;
use hyper::http::uri::Scheme;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use percent_encoding::percent_decode_str;
use url::Url;

use super::connector::ProxyConnector;
use super::reshape::url_with_path;
use crate::config::ClientTlsConfig;
use crate::tls::client::client_config;

/// Kept-alive connections per destination host, as many as a destination's concurrency.
const MAX_IDLE_PER_HOST: usize = 64;
/// An idle connection is closed after this long, before most servers would close it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A pooled client for deliveries whose TLS is one destination `tls` setting: verified
/// against its trust store, HTTP/2 when the server offers it, no redirects followed, proxies
/// as the environment names them. Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub struct HttpClient(Arc<Shared>);

/// Behind an `Arc`: hyper's client keeps its settings inline (half a kilobyte), and one
/// target per destination holds a client.
#[derive(Debug)]
struct Shared {
    pool: Client<HttpsConnector<ProxyConnector>, Full<Bytes>>,
    connector: ProxyConnector,
}

impl HttpClient {
    /// A client whose TLS is `tls` (see [`client_config`]), going through the environment's
    /// proxies.
    pub fn new(tls: &ClientTlsConfig) -> anyhow::Result<HttpClient> {
        HttpClient::with_connector(tls, ProxyConnector::from_env()?)
    }

    /// A client whose TLS is `tls`, opening connections with `connector`.
    pub(super) fn with_connector(
        tls: &ClientTlsConfig,
        connector: ProxyConnector,
    ) -> anyhow::Result<HttpClient> {
        let mut tls = client_config(tls)?;
        // hyper-rustls offers the versions enabled below (h2, then http/1.1: the same) and
        // insists on writing that list itself.
        tls.alpn_protocols.clear();
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connector.clone());
        let pool = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Ok(HttpClient(Arc::new(Shared { pool, connector })))
    }

    /// The pool requests are sent on.
    pub(super) fn pool(&self) -> &Client<HttpsConnector<ProxyConnector>, Full<Bytes>> {
        &self.0.pool
    }

    /// `url` made ready to send to once, rather than on every attempt.
    pub fn endpoint(&self, url: &str) -> anyhow::Result<Endpoint> {
        let mut url = Url::parse(url)?;
        let authorization = basic_authorization(&url);
        url.set_username("")
            .and_then(|()| url.set_password(None))
            .map_err(|()| anyhow::anyhow!("a URL without a host cannot be delivered to"))?;
        let uri: Uri = url.as_str().parse().context("not a valid HTTP URI")?;
        let proxy_authorization = match uri.scheme() {
            // HTTPS sends its proxy credentials once, in the tunnel's CONNECT.
            Some(scheme) if *scheme == Scheme::HTTPS => None,
            _ => self
                .0
                .connector
                .proxy_for(&uri)
                .and_then(|proxy| proxy.basic_auth().cloned()),
        };
        let credentials = [
            (AUTHORIZATION, authorization),
            (PROXY_AUTHORIZATION, proxy_authorization),
        ];
        Ok(Endpoint {
            url,
            uri,
            credentials: credentials
                .into_iter()
                .filter_map(|(name, value)| Some((name, value?)))
                .collect(),
        })
    }
}

/// A destination's URL, parsed and checked once: what the request line and `Host` get, and
/// the credentials that go in headers instead of in the URL.
#[derive(Debug)]
pub struct Endpoint {
    /// Without its user name and password; the base a transform's path is joined to.
    url: Url,
    uri: Uri,
    /// `Authorization` from the URL's user name and password (as browsers and curl send
    /// them), and `Proxy-Authorization` for plain HTTP through a proxy that has credentials.
    credentials: Vec<(HeaderName, HeaderValue)>,
}

impl Endpoint {
    /// The URI to send to, `path` (a transform's) joined to the destination's own path.
    pub fn uri_with(&self, path: Option<&str>) -> Result<Uri, InvalidUri> {
        match path {
            None => Ok(self.uri.clone()),
            Some(path) => url_with_path(&self.url, path).as_str().parse(),
        }
    }

    /// The credential headers every request to it carries.
    pub fn credentials(&self) -> impl Iterator<Item = &(HeaderName, HeaderValue)> {
        self.credentials.iter()
    }
}

/// `Basic` credentials of a URL's user name and password (percent-decoded), if it has any.
fn basic_authorization(url: &Url) -> Option<HeaderValue> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |part: &str| percent_decode_str(part).decode_utf8_lossy().into_owned();
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or_default())
    );
    let encoded = BASE64.encode(pair);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::policy::Outcome;
    use crate::delivery::request::send;
    use crate::delivery::testing::{listen_once, plain_attempt};
    use hyper_util::client::proxy::matcher::Matcher;

    const NOW: i64 = 1_700_000_000;

    const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";

    #[tokio::test]
    async fn credentials_in_the_url_go_in_a_basic_authorization_header_not_on_the_wire() {
        let (address, server) = listen_once(NO_CONTENT, b"").await;
        let client = HttpClient::new(&ClientTlsConfig::default()).expect("client");
        let url = client
            .endpoint(&format!("http://hook%20user:p%40ss@{address}/hooks/in"))
            .expect("endpoint");
        let body = Bytes::from_static(b"{}");
        let result = send(&client, &url, &plain_attempt(&body), NOW).await;
        assert_eq!(result.outcome, Outcome::Status(204, None));

        let received = server.await.expect("server");
        assert_eq!(received.request_line(), "POST /hooks/in HTTP/1.1");
        assert_eq!(received.header("host"), Some(address.to_string().as_str()));
        // "hook user:p@ss", Base64-encoded.
        assert_eq!(
            received.header("authorization"),
            Some("Basic aG9vayB1c2VyOnBAc3M=")
        );
        assert!(!received.head.contains("p@ss") && !received.head.contains("p%40ss"));
    }

    #[tokio::test]
    async fn plain_http_through_a_proxy_sends_the_whole_url_and_the_proxys_credentials() {
        let (proxy, server) = listen_once(NO_CONTENT, b"").await;
        let proxies = Matcher::builder()
            .http(format!("http://relay:pw@{proxy}"))
            .build();
        let connector = ProxyConnector::new(proxies).expect("proxy");
        let client =
            HttpClient::with_connector(&ClientTlsConfig::default(), connector).expect("client");
        let url = client
            .endpoint("http://billing.invalid/hooks?v=2")
            .expect("endpoint");
        let body = Bytes::from_static(b"{}");
        let result = send(&client, &url, &plain_attempt(&body), NOW).await;
        assert_eq!(result.outcome, Outcome::Status(204, None));

        let received = server.await.expect("server");
        assert_eq!(
            received.request_line(),
            "POST http://billing.invalid/hooks?v=2 HTTP/1.1"
        );
        // "relay:pw", Base64-encoded.
        assert_eq!(
            received.header("proxy-authorization"),
            Some("Basic cmVsYXk6cHc=")
        );
        assert_eq!(received.header("authorization"), None);
    }
}
