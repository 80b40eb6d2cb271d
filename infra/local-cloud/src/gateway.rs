//! The local HTTP gateway: what API Gateway's HTTP API does for the template's `HttpApi` events.
//!
//! A request becomes a payload format 2.0 event (path parameters, query string, headers, cookies, a base64 body
//! when binary, a request context with a request id) for the route's function; the function's answer becomes
//! the HTTP response (status, headers, cookies, base64 bodies). An unknown route is 404 JSON; a function that
//! fails is 502 JSON, as API Gateway answers.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

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
                    params.insert(w[1..w.len() - 1].to_string(), percent_decode(h));
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_text(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|t| {
        t.starts_with("text/") || t.contains("json") || t.contains("xml") || t.contains("javascript") || t.contains("x-www-form-urlencoded")
    })
}

/// The payload 2.0 event for a request.
pub fn to_event(route: &Route, params: &BTreeMap<String, String>, method: &Method, path: &str, query: Option<&str>, headers: &HeaderMap, body: &[u8], source_ip: &str) -> Value {
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
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.entry(percent_decode(&k.replace('+', " "))).or_default().push(percent_decode(&v.replace('+', " ")));
    }
    let query_json: serde_json::Map<String, Value> = query_params.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect();
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
            "accountId": crate::template::ACCOUNT,
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
        if let (Ok(name), Some(Ok(v))) = (http::HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str)) {
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
        Some(text) if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => BASE64.decode(text).ok()?,
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
        assert_eq!(route("GET", "/blog/{slug}").matches(&Method::GET, "/blog/hello%20world").unwrap()["slug"], "hello world");
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
        let event = to_event(&r, &params, &Method::POST, "/api/v1/things/7", Some("q=a+b&q=c&x=%2F"), &headers, &[0, 159, 146, 150], "127.0.0.1");
        assert_eq!(event["routeKey"], "POST /api/v1/things/{id}");
        assert_eq!(event["pathParameters"]["id"], "7");
        assert_eq!(event["queryStringParameters"]["q"], "a b,c");
        assert_eq!(event["queryStringParameters"]["x"], "/");
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
}
