//! Outbound HTTPS: the one client for calls this project makes to addresses outside AWS (the Telegram Bot API,
//! admins' webhook URLs). hyper with rustls (aws-lc-rs, Mozilla roots), the stack the AWS SDK already builds;
//! every exchange has a deadline and a cap on what it reads, and its errors never show the URL, which may hold a
//! secret (the bot token is part of the Bot API's paths).

use std::time::Duration;

use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
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
    timeout: Duration,
}

impl HttpsClient {
    /// A client that gives up connecting after `connect` and on a whole exchange after `timeout`.
    pub fn new(connect: Duration, timeout: Duration) -> Self {
        let client = crate::tls::client_config(crate::tls::default_roots())
            .map(|tls| {
                let mut tcp = HttpConnector::new();
                tcp.set_connect_timeout(Some(connect));
                tcp.enforce_http(false);
                let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(tcp);
                Client::builder(TokioExecutor::new()).build(https)
            })
            .map_err(|e| e.to_string())
            .inspect_err(|e| tracing::error!(error = %e, "cannot build the outbound HTTPS client"));
        Self { client, timeout }
    }

    /// Sends one request and reads at most `max_bytes` of the answer.
    pub async fn exchange(&self, request: Request<Full<Bytes>>, max_bytes: usize) -> Result<Answer, String> {
        let client = self.client.as_ref().map_err(|e| format!("no HTTP client: {e}"))?;
        let exchange = async {
            let response = client.request(request).await.map_err(|e| e.to_string())?;
            let status = response.status();
            match Limited::new(response.into_body(), max_bytes).collect().await {
                Ok(body) => Ok(Answer { status, body: Some(body.to_bytes()) }),
                Err(e) if e.is::<LengthLimitError>() => Ok(Answer { status, body: None }),
                Err(e) => Err(e.to_string()),
            }
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| format!("no answer within {:?}", self.timeout))?
    }
}
