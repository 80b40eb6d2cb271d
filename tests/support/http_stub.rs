//! A minimal HTTP/1.1 server on loopback for stand-ins of services the functions call out to (the Bot API, a
//! webhook receiver). It runs on a thread of its own with its own runtime, so it outlives each test's runtime.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the stub read it; header names are lower case.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// What the stub answers.
pub struct Response {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Serves `handler` on `address` (a loopback address; port 0 picks a free port) and answers the bound address.
pub fn spawn(address: &str, handler: impl Fn(Request) -> Response + Send + Sync + 'static) -> SocketAddr {
    assert!(address.starts_with("127.0.0.1:"), "stand-ins listen on loopback only, not {address}");
    let address = address.to_string();
    let handler = Arc::new(handler);
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
                    let _ = serve(stream, handler.as_ref()).await;
                });
            }
        });
    });
    ready_rx.recv().expect("the stub started")
}

/// Requests on one connection until the client closes it.
async fn serve(
    stream: tokio::net::TcpStream,
    handler: &(dyn Fn(Request) -> Response + Send + Sync),
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let response = handler(Request { method, path, headers, body });
        let head = format!(
            "HTTP/1.1 {}\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
            response.status,
            response.content_type,
            response.body.len()
        );
        write.write_all(head.as_bytes()).await?;
        write.write_all(&response.body).await?;
    }
}
