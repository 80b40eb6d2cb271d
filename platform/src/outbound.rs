//! Outbound HTTPS: the one client for calls this project makes to addresses outside AWS (the Telegram Bot API,
//! admins' webhook URLs). hyper with rustls (ring, Mozilla roots), the stack the AWS SDK already builds;
//! every exchange has a deadline and a cap on what it reads, and its errors never show the URL, which may hold a
//! secret (the bot token is part of the Bot API's paths).
//!
//! A URL someone else chose (a webhook) is sent with [`HttpsClient::exchange_at`]: to addresses the caller has
//! resolved and checked itself, never to what a second DNS lookup of the name would answer. The request keeps the
//! name for its `Host` header, TLS's server name and the certificate check.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// What an exchange answered: the status, and the body unless it was longer than allowed.
pub struct Answer {
    pub status: StatusCode,
    pub body: Option<Bytes>,
}

#[derive(Clone)]
pub struct HttpsClient {
    /// `Err` only if TLS could not be set up: then every exchange fails with that reason instead of panicking.
    client: Result<Client<Https, Full<Bytes>>, String>,
    /// The same TLS configuration, for the connectors [`HttpsClient::exchange_at`] makes.
    tls: Result<rustls::ClientConfig, String>,
    connect: Duration,
    timeout: Duration,
}

/// A "resolver" that answers the addresses it was made with, whatever name it is asked for: how a connection
/// goes to exactly the addresses that were checked. (hyper-util asks a resolver only for a host that is not an
/// IP address; one that is connects to itself, which is the address that was checked.)
#[derive(Clone)]
struct Pinned(Arc<[SocketAddr]>);

impl tower_service::Service<Name> for Pinned {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Name) -> Self::Future {
        std::future::ready(Ok(Vec::from(&self.0[..]).into_iter()))
    }
}

impl HttpsClient {
    /// A client that gives up connecting after `connect` and on a whole exchange after `timeout`.
    pub fn new(connect: Duration, timeout: Duration) -> Self {
        let tls = crate::tls::client_config(crate::tls::default_roots())
            .map_err(|e| e.to_string())
            .inspect_err(|e| tracing::error!(error = %e, "cannot build the outbound HTTPS client"));
        let client = tls.clone().map(|tls| {
            let mut tcp = HttpConnector::new();
            tcp.set_connect_timeout(Some(connect));
            tcp.enforce_http(false);
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp);
            Client::builder(TokioExecutor::new()).build(https)
        });
        Self { client, tls, connect, timeout }
    }

    /// Sends one request and reads at most `max_bytes` of the answer.
    pub async fn exchange(&self, request: Request<Full<Bytes>>, max_bytes: usize) -> Result<Answer, String> {
        let client = self.client.as_ref().map_err(|e| format!("no HTTP client: {e}"))?;
        self.run(client, request, max_bytes).await
    }

    /// Sends one request to one of `addresses` (in the order hyper-util tries them: the first address's family
    /// first, the other after a short delay), whatever the request's host resolves to now. The caller has checked
    /// the addresses; the host is still the request's `Host` and TLS server name. Nothing is pooled: each call
    /// connects anew.
    pub async fn exchange_at(
        &self,
        request: Request<Full<Bytes>>,
        addresses: &[SocketAddr],
        max_bytes: usize,
    ) -> Result<Answer, String> {
        let tls = self.tls.clone().map_err(|e| format!("no HTTP client: {e}"))?;
        if addresses.is_empty() {
            return Err("no address to connect to".into());
        }
        let mut tcp = HttpConnector::new_with_resolver(Pinned(addresses.into()));
        tcp.set_connect_timeout(Some(self.connect));
        tcp.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(https);
        self.run(&client, request, max_bytes).await
    }

    async fn run<C>(
        &self,
        client: &Client<C, Full<Bytes>>,
        request: Request<Full<Bytes>>,
        max_bytes: usize,
    ) -> Result<Answer, String>
    where
        C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
    {
        let exchange = async {
            let response = client.request(request).await.map_err(|e| e.to_string())?;
            let status = response.status();
            match Limited::new(response.into_body(), max_bytes).collect().await {
                Ok(body) => Ok(Answer { status, body: Some(body.to_bytes()) }),
                Err(e) if e.is::<LengthLimitError>() => Ok(Answer { status, body: None }),
                Err(e) => Err(e.to_string()),
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_connection_goes_to_the_given_address_not_to_what_the_name_resolves_to() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            // A listener on loopback that answers one request, and a name that resolves nowhere: the request
            // reaches the listener, with the name as its Host.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                }
                stream.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await.unwrap();
                String::from_utf8_lossy(&seen).to_lowercase()
            });
            let client = HttpsClient::new(Duration::from_secs(2), Duration::from_secs(5));
            let request = Request::get(format!("http://pinned.invalid:{}/hook", address.port()))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let answer = client.exchange_at(request, &[address], 1024).await.unwrap();
            assert_eq!(answer.status, StatusCode::NO_CONTENT);
            let head = server.await.unwrap();
            assert!(head.contains(&format!("host: pinned.invalid:{}", address.port())), "{head}");
        });
    }

    #[test]
    fn no_address_means_no_connection() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = HttpsClient::new(Duration::from_secs(2), Duration::from_secs(5));
        let request = Request::get("http://pinned.invalid/").body(Full::new(Bytes::new())).unwrap();
        assert_eq!(
            rt.block_on(client.exchange_at(request, &[], 1024)).err().as_deref(),
            Some("no address to connect to")
        );
    }
}
