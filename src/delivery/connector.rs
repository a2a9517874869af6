//! How a delivery's connection is opened: straight to the destination, or through the proxy
//! the environment names for it. Plain HTTP goes to the proxy, which is then sent the whole
//! URL; HTTPS goes through a `CONNECT` tunnel, so TLS (added on top, see
//! [`super::http_client`]) still runs end to end with the destination.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::Uri;
use hyper::http::uri::Scheme;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens TCP connections for deliveries, honouring `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`
/// and `NO_PROXY` (and their lowercase forms) as curl does.
#[derive(Clone, Debug)]
pub struct ProxyConnector {
    tcp: HttpConnector,
    proxies: Arc<Matcher>,
}

impl ProxyConnector {
    /// A connector whose proxies are those of the environment now.
    pub fn from_env() -> anyhow::Result<ProxyConnector> {
        ProxyConnector::new(Matcher::from_env())
    }

    /// A connector going through `proxies`. A proxy hookgate cannot speak to (anything but
    /// `http://`: a SOCKS or TLS proxy) is refused here, at start, rather than failing every
    /// delivery that would go through it.
    pub fn new(proxies: Matcher) -> anyhow::Result<ProxyConnector> {
        for (variable, probe) in [
            ("HTTP_PROXY", "http://hookgate.invalid/"),
            ("HTTPS_PROXY", "https://hookgate.invalid/"),
        ] {
            if let Some(proxy) = proxies.intercept(&Uri::from_static(probe))
                && proxy.uri().scheme() != Some(&Scheme::HTTP)
            {
                anyhow::bail!(
                    "{variable} (or ALL_PROXY) must name an http:// proxy: hookgate speaks \
                     neither SOCKS nor TLS to a proxy"
                );
            }
        }
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        // https:// URIs come here too: TLS is layered on what this connector opens.
        tcp.enforce_http(false);
        Ok(ProxyConnector {
            tcp,
            proxies: Arc::new(proxies),
        })
    }

    /// The proxy a request to `uri` goes through, if any.
    pub fn proxy_for(&self, uri: &Uri) -> Option<Intercept> {
        self.proxies.intercept(uri)
    }
}

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = Proxied;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Proxied, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let mut tcp = self.tcp.clone();
        let proxy = self.proxy_for(&destination);
        Box::pin(async move {
            let Some(proxy) = proxy else {
                return Ok(Proxied::end_to_end(tcp.call(destination).await?));
            };
            if destination.scheme() == Some(&Scheme::HTTPS) {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                return Ok(Proxied::end_to_end(tunnel.call(destination).await?));
            }
            Ok(Proxied::to_proxy(tcp.call(proxy.uri().clone()).await?))
        })
    }
}

/// A TCP connection that says whether requests on it go to a proxy, which must then be sent
/// the whole URL rather than only its path.
pub struct Proxied {
    io: TokioIo<TcpStream>,
    to_proxy: bool,
}

impl Proxied {
    fn end_to_end(io: TokioIo<TcpStream>) -> Proxied {
        Proxied {
            io,
            to_proxy: false,
        }
    }

    fn to_proxy(io: TokioIo<TcpStream>) -> Proxied {
        Proxied { io, to_proxy: true }
    }
}

impl Connection for Proxied {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.to_proxy)
    }
}

impl Read for Proxied {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Proxied {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_that_is_not_plain_http_is_refused_naming_the_variable() {
        for (proxies, variable) in [
            (
                Matcher::builder().all("socks5://127.0.0.1:1080"),
                "HTTP_PROXY",
            ),
            (
                Matcher::builder().https("https://proxy.internal:3128"),
                "HTTPS_PROXY",
            ),
        ] {
            let err = ProxyConnector::new(proxies.build()).unwrap_err();
            assert!(err.to_string().starts_with(variable), "{err}");
        }
        let plain = Matcher::builder().all("http://proxy.internal:3128").build();
        assert!(ProxyConnector::new(plain).is_ok());
    }
}
