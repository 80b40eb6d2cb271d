//! The local HTTP gateway: what API Gateway's HTTP API does for the template's `HttpApi` events.
//!
//! A request becomes a payload format 2.0 event (path parameters, query string, headers, cookies, a base64 body
//! when binary, a request context with a request id) for the route's function; the function's answer becomes
//! the HTTP response (status, headers, cookies, base64 bodies). An unknown route is 404 JSON; a function that
//! fails is 502 JSON, as API Gateway answers; a request whose event would be over Lambda's payload limit is
//! refused with 413 JSON before anything is invoked ([`MAX_EVENT_BYTES`]).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body, Bytes};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

/// The largest event a function is handed: Lambda's limit for a synchronous invocation's payload, 6 MB
/// (6,291,456 bytes). API Gateway's HTTP API takes request bodies of up to 10 MB, but its Lambda integration
/// hands the function one event holding the body (base64, so 4/3 larger, when binary) with the headers and the
/// request context, and an event over this limit is never delivered: the gateway answers 413 instead. So no
/// request body over this limit can reach a function, and a binary one stops at about 4.5 MiB.
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// How much of a body past the limit is still read, and thrown away, before the 413: a client that is still
/// sending (most do not wait for an early answer) then reads the 413 instead of a connection reset by a
/// server that closed with its bytes unread. Past this much the connection is closed all the same.
pub const DRAIN_BYTES: u64 = 16 * 1024 * 1024;

/// A request body read with a bound: at most `limit` bytes are kept.
#[derive(Debug, PartialEq)]
pub enum Bounded {
    Complete(Vec<u8>),
    /// Over the limit (by its `content-length`, or by what arrived); nothing of it is kept.
    TooLarge,
}

/// Reads a body, keeping at most `limit` bytes. A body over the limit is not kept: the rest of it is read and
/// discarded up to [`DRAIN_BYTES`] (see there), unless `drain` is false (a client that sent
/// `expect: 100-continue` has sent nothing yet, and waits for an answer).
pub async fn read_bounded<B>(mut body: B, limit: usize, drain: bool) -> Result<Bounded, B::Error>
where
    B: Body<Data = Bytes> + Unpin,
{
    let mut kept = Vec::new();
    let mut seen: u64 = 0;
    let declared_over = body.size_hint().lower() > limit as u64;
    if !declared_over {
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else { continue };
            seen += data.len() as u64;
            if kept.len() + data.len() > limit {
                break;
            }
            kept.extend_from_slice(&data);
        }
        if seen <= limit as u64 {
            return Ok(Bounded::Complete(kept));
        }
    }
    drop(kept);
    if drain {
        while seen < DRAIN_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
                Some(Err(_)) | None => break,
            }
        }
    }
    Ok(Bounded::TooLarge)
}

/// Whether the client waits for `100 Continue` before it sends its body.
pub fn expects_continue(headers: &HeaderMap) -> bool {
    headers.get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// One `HttpApi` route of the template.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: String,
    /// The template's path, e.g. `/api/v1/topics/{topic_id}`.
    pub path: String,
    pub function: String,
}

impl Route {
    /// The path parameters when the request matches this route.
    pub fn matches(&self, method: &Method, path: &str) -> Option<BTreeMap<String, String>> {
        if self.method != "ANY" && self.method != method.as_str() {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut want = self.path.trim_matches('/').split('/');
        let mut have = path.trim_matches('/').split('/');
        loop {
            match (want.next(), have.next()) {
                (None, None) => return Some(params),
                (Some(w), Some(h)) if w.starts_with('{') && w.ends_with("+}") => {
                    let rest: Vec<&str> = std::iter::once(h).chain(have.by_ref()).collect();
                    params.insert(w[1..w.len() - 2].to_string(), rest.join("/"));
                    return Some(params);
                }
                (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => {
                    params
                        .insert(w[1..w.len() - 1].to_string(), percent_decode_str(h).decode_utf8_lossy().into_owned());
                }
                (Some(w), Some(h)) if w == h => {}
                _ => return None,
            }
        }
    }

    /// Literal segments outrank parameters, as API Gateway picks the most specific route.
    pub fn specificity(&self) -> (usize, usize) {
        let segments: Vec<&str> = self.path.split('/').collect();
        let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
        (literal, usize::from(self.method != "ANY"))
    }
}

fn is_text(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|t| {
        t.starts_with("text/")
            || t.contains("json")
            || t.contains("xml")
            || t.contains("javascript")
            || t.contains("x-www-form-urlencoded")
    })
}

/// The payload 2.0 event for a request: its head (method, path, query, headers), its body and the client's address.
pub fn to_event(
    route: &Route,
    params: &BTreeMap<String, String>,
    request: &http::request::Parts,
    body: &[u8],
    source_ip: &str,
) -> Value {
    let (method, path, query, headers) = (&request.method, request.uri.path(), request.uri.query(), &request.headers);
    let mut header_map = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        // API Gateway joins repeated headers with commas.
        match header_map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                header_map.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    let mut query_params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // As API Gateway decodes them: `+` is a space, `%XX` a byte, the values of a repeated name joined by commas.
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        query_params.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    let query_json: serde_json::Map<String, Value> =
        query_params.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect();
    let content_type = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let (body, is_base64) = if body.is_empty() {
        (Value::Null, false)
    } else if is_text(content_type) && std::str::from_utf8(body).is_ok() {
        (Value::String(String::from_utf8_lossy(body).into_owned()), false)
    } else {
        (Value::String(BASE64.encode(body)), true)
    };
    let now = Utc::now();
    let route_key = format!("{} {}", route.method, route.path);
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query.unwrap_or_default(),
        "headers": header_map,
        "requestContext": {
            "accountId": local_cloud::template::ACCOUNT,
            "apiId": "local",
            "domainName": headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                "userAgent": headers.get(http::header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": is_base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query_json.is_empty() {
        event["queryStringParameters"] = Value::Object(query_json);
    }
    if !params.is_empty() {
        event["pathParameters"] = json!(params);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// An HTTP response from the function's answer; `None` when the answer is not one API Gateway would accept.
pub fn from_function(payload: &[u8]) -> Option<(StatusCode, HeaderMap, Vec<u8>)> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let Some(status) = value.get("statusCode") else {
        // API Gateway treats any other JSON as a 200 with that JSON as the body.
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Some((StatusCode::OK, headers, payload.to_vec()));
    };
    let status = StatusCode::from_u16(u16::try_from(status.as_u64()?).ok()?).ok()?;
    let mut headers = HeaderMap::new();
    for (k, v) in value.get("headers").and_then(Value::as_object).into_iter().flatten() {
        if let (Ok(name), Some(Ok(v))) =
            (http::HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str))
        {
            headers.append(name, v);
        }
    }
    for (k, values) in value.get("multiValueHeaders").and_then(Value::as_object).into_iter().flatten() {
        for v in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
            if let (Ok(name), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                headers.append(name, v);
            }
        }
    }
    for cookie in value.get("cookies").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            headers.append(http::header::SET_COOKIE, v);
        }
    }
    let body = match value.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(text) if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            BASE64.decode(text).ok()?
        }
        Some(text) => text.as_bytes().to_vec(),
    };
    Some((status, headers, body))
}

/// The JSON error API Gateway answers with.
pub fn gateway_error(status: StatusCode, message: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    (status, headers, json!({ "message": message }).to_string().into_bytes())
}

/// What API Gateway answers to a request it will not hand to the function for its size.
pub fn too_large() -> (StatusCode, HeaderMap, Vec<u8>) {
    gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route {
        Route { method: method.into(), path: path.into(), function: "f".into() }
    }

    #[test]
    fn routes_match_their_method_and_path_and_capture_parameters() {
        let r = route("GET", "/api/v1/topics/{topic_id}/subtopics");
        let params = r.matches(&Method::GET, "/api/v1/topics/42/subtopics").unwrap();
        assert_eq!(params["topic_id"], "42");
        assert!(r.matches(&Method::POST, "/api/v1/topics/42/subtopics").is_none());
        assert!(r.matches(&Method::GET, "/api/v1/topics//subtopics").is_none());
        assert!(r.matches(&Method::GET, "/api/v1/topics/42").is_none());
        let greedy = route("ANY", "/app/{proxy+}");
        assert_eq!(greedy.matches(&Method::GET, "/app/js/main.js").unwrap()["proxy"], "js/main.js");
        assert_eq!(
            route("GET", "/blog/{slug}").matches(&Method::GET, "/blog/hello%20world").unwrap()["slug"],
            "hello world"
        );
    }

    #[test]
    fn a_request_becomes_a_payload_2_event() {
        let r = route("POST", "/api/v1/things/{id}");
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        headers.insert("content-type", HeaderValue::from_static("application/octet-stream"));
        headers.append("x-many", HeaderValue::from_static("one"));
        headers.append("x-many", HeaderValue::from_static("two"));
        let params = r.matches(&Method::POST, "/api/v1/things/7").unwrap();
        let (mut request, ()) = http::Request::post("/api/v1/things/7?q=a+b&q=c&x=%2F&euro=%E2%82%AC&bad=%zz")
            .body(())
            .unwrap()
            .into_parts();
        request.headers = headers;
        let event = to_event(&r, &params, &request, &[0, 159, 146, 150], "127.0.0.1");
        assert_eq!(event["routeKey"], "POST /api/v1/things/{id}");
        assert_eq!(event["pathParameters"]["id"], "7");
        assert_eq!(event["queryStringParameters"]["q"], "a b,c");
        assert_eq!(event["queryStringParameters"]["x"], "/");
        assert_eq!(event["queryStringParameters"]["euro"], "€", "a multi-byte escape is one character");
        assert_eq!(event["queryStringParameters"]["bad"], "%zz", "a malformed escape is kept as written");
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["headers"]["x-many"], "one,two");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(BASE64.decode(event["body"].as_str().unwrap()).unwrap(), [0, 159, 146, 150]);
        assert!(event["requestContext"]["requestId"].as_str().is_some_and(|id| !id.is_empty()));
    }

    #[test]
    fn a_function_answer_becomes_the_http_response() {
        let answer = json!({
            "statusCode": 201, "headers": {"content-type": "image/png"}, "cookies": ["s=1; HttpOnly", "t=2"],
            "body": BASE64.encode([1u8, 2, 3]), "isBase64Encoded": true
        });
        let (status, headers, body) = from_function(answer.to_string().as_bytes()).unwrap();
        assert_eq!(status, 201);
        assert_eq!(headers["content-type"], "image/png");
        assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(body, [1, 2, 3]);
        assert_eq!(from_function(br#"{"hello":1}"#).unwrap().0, 200);
        assert!(from_function(b"not json").is_none());
    }

    /// A body of `chunks` chunks of `size` bytes with no declared length (as a chunked upload arrives); counts
    /// the bytes handed out.
    struct Chunked {
        chunks: usize,
        size: usize,
        handed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Body for Chunked {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            if self.chunks == 0 {
                return std::task::Poll::Ready(None);
            }
            self.chunks -= 1;
            self.handed.fetch_add(self.size, std::sync::atomic::Ordering::Relaxed);
            std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(vec![b'x'; self.size])))))
        }
    }

    fn chunked(chunks: usize, size: usize) -> (Chunked, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let handed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        (Chunked { chunks, size, handed: handed.clone() }, handed)
    }

    #[tokio::test]
    async fn a_body_is_kept_up_to_the_limit_and_refused_past_it() {
        let (at_limit, _) = chunked(6, 1024 * 1024);
        assert_eq!(
            read_bounded(at_limit, MAX_EVENT_BYTES, true).await.unwrap(),
            Bounded::Complete(vec![b'x'; MAX_EVENT_BYTES])
        );
        let (one_over, _) = chunked(MAX_EVENT_BYTES + 1, 1);
        assert_eq!(read_bounded(one_over, MAX_EVENT_BYTES, true).await.unwrap(), Bounded::TooLarge);
        let empty = http_body_util::Empty::<Bytes>::new();
        assert_eq!(read_bounded(empty, MAX_EVENT_BYTES, true).await.unwrap(), Bounded::Complete(Vec::new()));
    }

    #[tokio::test]
    async fn past_the_limit_the_rest_is_drained_only_up_to_a_bound() {
        // 1 GiB on its way: read and dropped up to DRAIN_BYTES, then given up on, never buffered.
        let (huge, handed) = chunked(1024, 1024 * 1024);
        assert_eq!(read_bounded(huge, MAX_EVENT_BYTES, true).await.unwrap(), Bounded::TooLarge);
        let handed = handed.load(std::sync::atomic::Ordering::Relaxed) as u64;
        assert!((DRAIN_BYTES..=DRAIN_BYTES + 1024 * 1024).contains(&handed), "{handed}");
        // A client that waits for 100 Continue: refused by its declared length, none of the body is asked for.
        let declared = http_body_util::Full::new(Bytes::from(vec![0u8; MAX_EVENT_BYTES + 1]));
        assert_eq!(read_bounded(declared, MAX_EVENT_BYTES, false).await.unwrap(), Bounded::TooLarge);
        let (chunks, handed) = chunked(7, 1024 * 1024);
        assert_eq!(read_bounded(chunks, MAX_EVENT_BYTES, false).await.unwrap(), Bounded::TooLarge);
        assert_eq!(
            handed.load(std::sync::atomic::Ordering::Relaxed),
            MAX_EVENT_BYTES + 1024 * 1024,
            "stopped at the chunk past the limit"
        );
    }

    #[test]
    fn the_413_is_json_like_the_gateways_other_answers() {
        let (status, headers, body) = too_large();
        assert_eq!(status, 413);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), json!({"message": "Request Entity Too Large"}));
        let mut expect = HeaderMap::new();
        expect.insert("expect", HeaderValue::from_static("100-Continue"));
        assert!(expects_continue(&expect) && !expects_continue(&HeaderMap::new()));
    }
}
