//! Lambda's Runtime API, served by the local cloud itself to each instance it starts: the binary is started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a loopback port of its own, and asks there for its next invocation, as
//! it does on Lambda. No emulator process stands between the gateway and the function.
//!
//!   GET  /2018-06-01/runtime/invocation/next              the next event (waits until there is one), with
//!                                                          the request id, deadline, function ARN and trace id
//!   POST /2018-06-01/runtime/invocation/{id}/response     the function's answer
//!   POST /2018-06-01/runtime/invocation/{id}/error        the function's error (`errorType`, `errorMessage`)
//!   POST /2018-06-01/runtime/init/error                   the runtime could not start; it exits after
//!
//! What the caller ([`crate::runtime::Pool`]) adds, as Lambda does: the function's timeout (the instance is killed
//! and the invocation fails with `Task timed out`), a crashed process (the invocation fails with the exit status,
//! and the next invocation starts a fresh instance), the 6 MB limit on a response. Not served: response streaming,
//! the Extensions and Telemetry APIs, `Lambda-Runtime-Client-Context` and `Lambda-Runtime-Cognito-Identity`
//! (no caller here sends them).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// Lambda's limit on a synchronous invocation's response.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

const PREFIX: &str = "/2018-06-01/runtime/";

/// How an invocation ended, as the runtime said it.
#[derive(Debug)]
pub enum Outcome {
    Response(Vec<u8>),
    /// The error payload the runtime posted (or the one Lambda makes of a response over its limit).
    Error(String),
}

/// One invocation waiting for, or being handled by, the instance.
struct Pending {
    request_id: String,
    payload: Vec<u8>,
    deadline: SystemTime,
    reply: oneshot::Sender<Outcome>,
}

struct State {
    function_arn: String,
    /// `next` takes invocations from here, one at a time.
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    /// The invocation the runtime is handling: its request id and where its outcome goes.
    current: Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    /// What the runtime posted to `init/error`, reported with its exit.
    init_error: Mutex<Option<String>>,
}

/// The Runtime API of one instance: a loopback port and the queue of its invocations. Dropped, it stops serving.
pub struct RuntimeApi {
    pub address: std::net::SocketAddr,
    invocations: mpsc::Sender<Pending>,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Listens on a free loopback port; the instance's binary is then started with `AWS_LAMBDA_RUNTIME_API` set
    /// to [`RuntimeApi::address`].
    pub async fn start(function_arn: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (invocations, queue) = mpsc::channel(1);
        let state = Arc::new(State {
            function_arn,
            queue: tokio::sync::Mutex::new(queue),
            current: Mutex::new(None),
            init_error: Mutex::new(None),
        });
        let server = tokio::spawn(serve(listener, state.clone()));
        Ok(Self { address, invocations, state, server })
    }

    /// Hands one event to the runtime; the outcome arrives on the receiver (dropped unanswered if the runtime
    /// never answers: the caller bounds the wait by the function's timeout and watches the process).
    pub async fn invoke(&self, payload: Vec<u8>, timeout: Duration) -> Result<oneshot::Receiver<Outcome>, String> {
        let (reply, outcome) = oneshot::channel();
        let pending = Pending {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload,
            deadline: SystemTime::now() + timeout,
            reply,
        };
        self.invocations.send(pending).await.map_err(|_| "the instance's Runtime API has stopped".to_string())?;
        Ok(outcome)
    }

    /// What the runtime reported to `init/error`, if anything.
    pub fn init_error(&self) -> Option<String> {
        self.state.init_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    // One runtime, one or two connections (lambda_runtime keeps one alive): no accept error is worth more than
    // a pause.
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

type Response = hyper::Response<Full<Bytes>>;

fn answer(status: http::StatusCode, body: serde_json::Value) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

fn accepted() -> Response {
    answer(http::StatusCode::ACCEPTED, serde_json::json!({ "status": "OK" }))
}

fn refused(status: http::StatusCode, error_type: &str, message: &str) -> Response {
    answer(status, serde_json::json!({ "errorType": error_type, "errorMessage": message }))
}

async fn handle(state: Arc<State>, request: hyper::Request<Incoming>) -> Result<Response, hyper::Error> {
    let path = request.uri().path().strip_prefix(PREFIX).unwrap_or_default().to_string();
    let method = request.method().clone();
    if method == http::Method::GET && path == "invocation/next" {
        return Ok(next(&state).await);
    }
    if method != http::Method::POST {
        return Ok(refused(http::StatusCode::NOT_FOUND, "InvalidRequest", "no such Runtime API call"));
    }
    let body = match Limited::new(request.into_body(), MAX_RESPONSE_BYTES).collect().await {
        Ok(body) => Ok(body.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(()),
        Err(_) => return Ok(refused(http::StatusCode::BAD_REQUEST, "InvalidRequest", "the body could not be read")),
    };
    if path == "init/error" {
        let text = String::from_utf8_lossy(body.as_deref().unwrap_or(b"(over 6 MB)")).into_owned();
        *state.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
        return Ok(accepted());
    }
    let Some((id, kind)) = path.strip_prefix("invocation/").and_then(|rest| rest.split_once('/')) else {
        return Ok(refused(http::StatusCode::NOT_FOUND, "InvalidRequest", "no such Runtime API call"));
    };
    let reply = {
        let mut current = state.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.take() {
            Some((current_id, reply)) if current_id == id => reply,
            other => {
                *current = other;
                return Ok(refused(
                    http::StatusCode::BAD_REQUEST,
                    "InvalidRequestID",
                    "no such invocation in progress",
                ));
            }
        }
    };
    let outcome = match (kind, body) {
        ("response", Ok(body)) => Outcome::Response(body),
        ("error", Ok(body)) => Outcome::Error(String::from_utf8_lossy(&body).into_owned()),
        (_, Err(())) => {
            // As Lambda answers a response over its limit: the invocation fails, the runtime is told 413.
            let message =
                format!("Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).");
            let error = serde_json::json!({ "errorType": "Function.ResponseSizeTooLarge", "errorMessage": message });
            let _ = reply.send(Outcome::Error(error.to_string()));
            return Ok(refused(http::StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", &message));
        }
        _ => return Ok(refused(http::StatusCode::NOT_FOUND, "InvalidRequest", "no such Runtime API call")),
    };
    // The caller may have given up (a timeout); the instance is then being killed anyway.
    let _ = reply.send(outcome);
    Ok(accepted())
}

/// Waits for the next invocation and hands it over with Lambda's headers.
async fn next(state: &State) -> Response {
    let pending = state.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return refused(http::StatusCode::GONE, "ShutDown", "the instance is being stopped");
    };
    let deadline_ms = pending.deadline.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let trace_id = trace_id(&pending.request_id);
    *state.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((pending.request_id.clone(), pending.reply));
    let mut response = hyper::Response::new(Full::new(Bytes::from(pending.payload)));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = http::HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/json".into());
    set("lambda-runtime-aws-request-id", pending.request_id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", state.function_arn.clone());
    set("lambda-runtime-trace-id", trace_id);
    response
}

/// An X-Ray trace header of the form Lambda passes (`Root=1-<8 hex of time>-<24 hex>;Parent=…;Sampled=0`), its
/// random parts taken from the request id.
fn trace_id(request_id: &str) -> String {
    let hex: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("Root=1-{seconds:08x}-{};Parent={};Sampled=0", &hex[..24], &hex[16..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    async fn call(api: &RuntimeApi, method: &str, path: &str, body: Vec<u8>) -> (u16, http::HeaderMap, Vec<u8>) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{PREFIX}{path}", api.address))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status.as_u16(), parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
    }

    #[tokio::test]
    async fn an_invocation_goes_out_on_next_with_lambdas_headers_and_its_response_comes_back() {
        let api = RuntimeApi::start("arn:aws:lambda:us-east-1:000000000000:function:echo".into()).await.unwrap();
        let outcome = api.invoke(br#"{"n":1}"#.to_vec(), Duration::from_secs(3)).await.unwrap();
        let (status, headers, body) = call(&api, "GET", "invocation/next", Vec::new()).await;
        assert_eq!((status, body.as_slice()), (200, &br#"{"n":1}"#[..]));
        let id = headers["lambda-runtime-aws-request-id"].to_str().unwrap().to_string();
        let deadline: u128 = headers["lambda-runtime-deadline-ms"].to_str().unwrap().parse().unwrap();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
        assert!(deadline > now && deadline <= now + 3000, "{deadline} against {now}");
        assert_eq!(
            headers["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:000000000000:function:echo"
        );
        assert!(headers["lambda-runtime-trace-id"].to_str().unwrap().starts_with("Root=1-"));
        let (status, _, _) = call(&api, "POST", "invocation/not-this-one/response", b"{}".to_vec()).await;
        assert_eq!(status, 400, "an unknown request id is refused");
        let (status, _, _) = call(&api, "POST", &format!("invocation/{id}/response"), b"\"done\"".to_vec()).await;
        assert_eq!(status, 202);
        assert!(matches!(outcome.await.unwrap(), Outcome::Response(body) if body == b"\"done\""));
        let (status, _, _) = call(&api, "POST", &format!("invocation/{id}/response"), b"again".to_vec()).await;
        assert_eq!(status, 400, "answered once only");
    }

    #[tokio::test]
    async fn an_error_and_a_response_over_six_megabytes_fail_the_invocation() {
        let api = RuntimeApi::start("arn".into()).await.unwrap();
        for (kind, body, says) in [
            ("error", br#"{"errorType":"boom","errorMessage":"it broke"}"#.to_vec(), "it broke"),
            ("response", vec![b'x'; MAX_RESPONSE_BYTES + 1], "Function.ResponseSizeTooLarge"),
        ] {
            let outcome = api.invoke(b"{}".to_vec(), Duration::from_secs(3)).await.unwrap();
            let (_, headers, _) = call(&api, "GET", "invocation/next", Vec::new()).await;
            let id = headers["lambda-runtime-aws-request-id"].to_str().unwrap().to_string();
            let expected = if kind == "error" { 202 } else { 413 };
            assert_eq!(call(&api, "POST", &format!("invocation/{id}/{kind}"), body).await.0, expected);
            assert!(matches!(outcome.await.unwrap(), Outcome::Error(e) if e.contains(says)));
        }
        assert_eq!(call(&api, "POST", "init/error", br#"{"errorMessage":"no config"}"#.to_vec()).await.0, 202);
        assert!(api.init_error().unwrap().contains("no config"));
        assert_eq!(call(&api, "GET", "invocation/elsewhere", Vec::new()).await.0, 404);
    }
}
