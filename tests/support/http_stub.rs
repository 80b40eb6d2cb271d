//! A small HTTP/1.1 server on loopback for stand-ins of services the functions call out to (the Bot API, a
//! webhook receiver), on hyper's server. It runs on a thread of its own with its own runtime, so it outlives each
//! test's runtime.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use http::StatusCode;
use http::header::CONTENT_TYPE;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One request as the stub read it; header names are lower case (a repeated header keeps its last value).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target: the path and, when there is one, the query.
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// What the stub answers.
pub struct Response {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

type Handler = dyn Fn(Request) -> Response + Send + Sync;

/// Serves `handler` on `address` (a loopback address; port 0 picks a free port) and answers the bound address.
pub fn spawn(address: &str, handler: impl Fn(Request) -> Response + Send + Sync + 'static) -> SocketAddr {
    assert!(address.starts_with("127.0.0.1:"), "stand-ins listen on loopback only, not {address}");
    let address = address.to_string();
    let handler: Arc<Handler> = Arc::new(handler);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener =
                TcpListener::bind(&address).await.unwrap_or_else(|e| panic!("cannot listen on {address}: {e}"));
            ready_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(handler.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
    });
    ready_rx.recv().expect("the stub started")
}

/// One request, whole (hyper reads a chunked body as well as a sized one), to the handler and back.
async fn answer(
    handler: Arc<Handler>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let (head, body) = request.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    let headers = head
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let path = head.uri.path_and_query().map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let response = handler(Request { method: head.method.to_string(), path, headers, body });
    let mut answer = hyper::Response::new(Full::new(Bytes::from(response.body)));
    *answer.status_mut() = response.status;
    answer.headers_mut().insert(CONTENT_TYPE, http::HeaderValue::from_static(response.content_type));
    Ok(answer)
}
