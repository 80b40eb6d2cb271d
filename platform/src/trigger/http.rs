//! API Gateway HTTP API (payload format 2.0) to a route handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response, service_fn};

use crate::Platform;
use crate::http::{ApiError, ApiRequest, ApiResponse, Conventions, usable_request_id};
use crate::telemetry::{self, Class, Outcome, Trigger};

use super::BoxError;

/// A route handler's answer, boxed: what an HTTP [`crate::function::Trigger`]'s handler returns.
pub type RouteFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send>>;

/// A route handler.
pub type RouteHandler = fn(&'static Platform, ApiRequest) -> RouteFuture;

/// A route function's whole `main`: starts the instance and serves the route `key` until the runtime stops.
pub fn run(function_name: &'static str, key: &'static str, handler: RouteHandler) -> Result<(), BoxError> {
    super::run_instance(function_name, move |platform| Box::pin(serve(platform, key, handler)))
}

/// Serves one route until the runtime stops. Not generic: the runtime loop is compiled once, here.
pub async fn serve(platform: &'static Platform, key: &'static str, handler: RouteHandler) -> Result<(), BoxError> {
    let conventions = &*Box::leak(Box::new(platform.conventions()));
    // Boxed: the nested future types are otherwise too deep for the compiler's layout computation.
    lambda_http::run(service_fn(move |request: Request| {
        Box::pin(async move { Ok::<_, Infallible>(handle(conventions, key, request, |r| handler(platform, r)).await) })
    }))
    .await
}

/// One request through the conventions: request id, body limit, the handler in a telemetry scope, errors as
/// JSON, and the headers every response carries.
pub async fn handle<F, Fut>(conventions: &Conventions, route: &str, request: Request, handler: F) -> Response<Body>
where
    F: FnOnce(ApiRequest) -> Fut,
    Fut: Future<Output = Result<ApiResponse, ApiError>>,
{
    let api_request = to_api_request(&request);
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(String::from);
    let request_id = api_request.request_id.clone();
    let (result, _) = telemetry::scope(Trigger::Http, route, &request_id, async {
        if api_request.body.len() > conventions.max_body_bytes {
            return Err(ApiError::payload_too_large(conventions.max_body_bytes));
        }
        refuse_nul_in_parameters(&api_request)?;
        handler(api_request).await
    })
    .await;
    let mut response = result.unwrap_or_else(|e| e.to_response());
    conventions.finish(&mut response, &request_id, origin.as_deref());
    to_lambda_response(response)
}

impl Outcome for Result<ApiResponse, ApiError> {
    fn status(&self) -> String {
        self.as_ref().map_or_else(|e| e.status, |r| r.status).as_u16().to_string()
    }
    fn class(&self) -> Class {
        match self.as_ref().map_or_else(|e| e.status, |r| r.status) {
            s if s.is_server_error() => Class::ServerError,
            s if s.is_client_error() => Class::ClientError,
            _ => Class::Success,
        }
    }
}

fn to_api_request(request: &Request) -> ApiRequest {
    let caller_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok());
    let request_id = usable_request_id(caller_id)
        .map(String::from)
        .or_else(|| request.lambda_context_ref().map(|c| c.request_id.clone()).filter(|id| !id.is_empty()))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    ApiRequest {
        method: request.method().clone(),
        path: request.uri().path().to_string(),
        path_params: first_values(&request.path_parameters()),
        query: query_of(request),
        headers: request.headers().clone(),
        body: match request.body() {
            Body::Empty => Vec::new(),
            Body::Text(text) => text.as_bytes().to_vec(),
            Body::Binary(bytes) => bytes.clone(),
            _ => Vec::new(),
        },
        request_id,
        source_ip: match request.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
            _ => None,
        },
    }
}

/// The first value of each name. (`QueryMap::iter` yields every value, so collecting it keeps the last.)
fn first_values(map: &lambda_http::aws_lambda_events::query_map::QueryMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (name, _) in map.iter() {
        if let Some(value) = map.first(name) {
            out.entry(name.to_string()).or_insert_with(|| value.to_string());
        }
    }
    out
}

/// The query parameters, the first value of each, as the API document says. They are read from the raw query
/// string when the event has one: API Gateway's `queryStringParameters` joins a repeated parameter's values with
/// commas (`lang=ru,en`), which cannot be told apart from one value with a comma in it.
fn query_of(request: &Request) -> HashMap<String, String> {
    match request.uri().query().filter(|q| !q.is_empty()) {
        Some(raw) => {
            let mut out = HashMap::new();
            for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
                out.entry(name.into_owned()).or_insert_with(|| value.into_owned());
            }
            out
        }
        None => first_values(&request.query_string_parameters()),
    }
}

/// 400 naming the parameter when a query or path parameter holds a NUL character (`%00`).
fn refuse_nul_in_parameters(request: &ApiRequest) -> Result<(), ApiError> {
    for (name, value) in request.query.iter().chain(request.path_params.iter()) {
        crate::http::text::refuse_nul(name, value)?;
        crate::http::text::refuse_nul(name, name)?;
    }
    Ok(())
}

fn to_lambda_response(response: ApiResponse) -> Response<Body> {
    // Text goes out as text; anything else as binary, which the runtime base64-encodes for API Gateway.
    let is_text =
        response.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
            t.starts_with("text/") || t.contains("json") || t.contains("xml") || t.contains("javascript")
        });
    let body = if response.body.is_empty() {
        Body::Empty
    } else if is_text {
        match String::from_utf8(response.body) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(response.body)
    };
    let mut out = Response::new(body);
    *out.status_mut() = response.status;
    *out.headers_mut() = joined(response.headers);
    if out.status() == StatusCode::NO_CONTENT {
        out.headers_mut().remove(header::CONTENT_TYPE);
    }
    out.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    out
}

/// A repeated header (`Vary: Origin` and `Vary: Accept-Encoding`) as one comma-separated value: API Gateway's
/// payload 2.0 response has one value per header name, and the runtime sends only the first of several. Cookies
/// stay separate (the runtime moves them to the payload's `cookies`).
fn joined(headers: http::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values = headers.get_all(name);
        if name == header::SET_COOKIE || values.iter().count() == 1 {
            for value in values {
                out.append(name.clone(), value.clone());
            }
        } else {
            let text: Vec<&str> = values.iter().filter_map(|v| v.to_str().ok()).collect();
            if let Ok(value) = HeaderValue::from_str(&text.join(", ")) {
                out.insert(name.clone(), value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headers_leave_as_one_value_and_cookies_stay_apart() {
        let mut headers = http::HeaderMap::new();
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        headers.insert(header::ETAG, HeaderValue::from_static("\"x\""));
        let out = joined(headers);
        assert_eq!(out.get_all(header::VARY).iter().collect::<Vec<_>>(), ["Accept-Encoding, Origin"]);
        assert_eq!(out.get_all(header::SET_COOKIE).iter().count(), 2);
        assert_eq!(out[header::ETAG], "\"x\"");
    }

    fn conventions() -> Conventions {
        Conventions { cors_allowed_origins: vec!["https://app.example".into()], max_body_bytes: 64 }
    }

    fn json_headers() -> serde_json::Value {
        serde_json::json!({"content-type": "application/json"})
    }

    fn event(body: &str, headers: serde_json::Value) -> Request {
        lambda_http::request::from_str(&event_json(body, headers).to_string()).expect("a valid payload 2.0 event")
    }

    fn event_json(body: &str, headers: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": "2.0",
            "routeKey": "POST /api/v1/echo/{name}",
            "rawPath": "/api/v1/echo/ada",
            "rawQueryString": "lang=ru&lang=en&x=1",
            "cookies": ["session=abc"],
            "headers": headers,
            "queryStringParameters": {"lang": "ru,en", "x": "1"},
            "pathParameters": {"name": "ada"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "localhost", "domainPrefix": "localhost",
                "http": {"method": "POST", "path": "/api/v1/echo/ada", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
                "requestId": "gw-request-1", "routeKey": "POST /api/v1/echo/{name}", "stage": "$default",
                "time": "26/Nov/2026:01:00:00 +0000", "timeEpoch": 1795000000000i64
            },
            "body": body,
            "isBase64Encoded": false
        })
    }

    async fn echo(req: ApiRequest) -> Result<ApiResponse, ApiError> {
        let body: serde_json::Value = req.json()?;
        Ok(ApiResponse::ok(&serde_json::json!({
            "name": req.path_params.get("name"),
            "x": req.query.get("x"),
            "cookie": req.header("cookie"),
            "source_ip": req.source_ip,
            "body": body,
        })))
    }

    fn json_of(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[tokio::test]
    async fn a_payload_2_event_reaches_the_handler_with_params_query_cookies_and_body() {
        let request = event(
            r#"{"a":1}"#,
            serde_json::json!({"content-type": "application/json", "origin": "https://app.example"}),
        );
        let response = handle(&conventions(), "echo", request, echo).await;
        assert_eq!(response.status(), 200);
        let body = json_of(&response);
        assert_eq!(body["name"], "ada");
        assert_eq!(body["x"], "1");
        assert_eq!(body["cookie"], "session=abc");
        assert_eq!(body["body"]["a"], 1);
        assert_eq!(body["source_ip"], "127.0.0.1");
        assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example");
        assert!(response.headers().contains_key("x-request-id"));
    }

    #[tokio::test]
    async fn the_callers_request_id_is_echoed() {
        let request = event("{}", serde_json::json!({"x-request-id": "trace-42", "content-type": "application/json"}));
        let response = handle(&conventions(), "echo", request, echo).await;
        assert_eq!(response.headers()["x-request-id"], "trace-42");
    }

    #[tokio::test]
    async fn malformed_json_is_a_400_with_a_json_error() {
        let response = handle(&conventions(), "echo", event("{nope", json_headers()), echo).await;
        assert_eq!(response.status(), 400);
        assert_eq!(json_of(&response)["error"]["code"], "invalid_json");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_a_413_and_the_handler_never_runs() {
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(100));
        let ran = std::sync::atomic::AtomicBool::new(false);
        let response = handle(&conventions(), "echo", event(&big, serde_json::json!({})), |req| {
            ran.store(true, std::sync::atomic::Ordering::Relaxed);
            echo(req)
        })
        .await;
        assert_eq!(response.status(), 413);
        assert!(!ran.load(std::sync::atomic::Ordering::Relaxed), "the handler must not run for an oversize body");
        assert_eq!(json_of(&response)["error"]["code"], "payload_too_large");
    }

    #[tokio::test]
    async fn a_handler_error_keeps_the_security_headers() {
        let response = handle(&conventions(), "echo", event("{}", serde_json::json!({})), |_req| async {
            Err(ApiError::not_found("no such thing"))
        })
        .await;
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    async fn query_echo(req: ApiRequest) -> Result<ApiResponse, ApiError> {
        Ok(ApiResponse::ok(&serde_json::json!({ "lang": req.query.get("lang"), "x": req.query.get("x") })))
    }

    #[tokio::test]
    async fn a_repeated_query_parameter_keeps_its_first_value() {
        // API Gateway's own shape (AWS's fixture `example-apigw-v2-request-multi-value-parameters.json`): the raw
        // query string as sent, and the values joined with commas.
        let response = handle(&conventions(), "echo", event("{}", json_headers()), query_echo).await;
        assert_eq!(json_of(&response)["lang"], "ru", "rawQueryString is lang=ru&lang=en");

        // Without a raw query string (an event written by hand), the joined values still give the first.
        let mut raw = event_json("{}", json_headers());
        raw.as_object_mut().unwrap().remove("rawQueryString");
        let request = lambda_http::request::from_str(&raw.to_string()).unwrap();
        let response = handle(&conventions(), "echo", request, query_echo).await;
        assert_eq!(json_of(&response)["lang"], "ru");
        assert_eq!(json_of(&response)["x"], "1");
    }

    #[tokio::test]
    async fn a_comma_in_a_single_query_value_is_kept() {
        let mut raw = event_json("{}", json_headers());
        raw["rawQueryString"] = "lang=a%2Cb&x=1".into();
        raw["queryStringParameters"] = serde_json::json!({"lang": "a,b", "x": "1"});
        let request = lambda_http::request::from_str(&raw.to_string()).unwrap();
        assert_eq!(json_of(&handle(&conventions(), "echo", request, query_echo).await)["lang"], "a,b");
    }

    #[tokio::test]
    async fn a_nul_in_a_query_parameter_is_a_400_naming_it_and_the_handler_never_runs() {
        let mut raw = event_json("{}", json_headers());
        raw["rawQueryString"] = "lang=e%00n".into();
        raw["queryStringParameters"] = serde_json::json!({"lang": "e\u{0}n"});
        let request = lambda_http::request::from_str(&raw.to_string()).unwrap();
        let response =
            handle(&conventions(), "echo", request, |_req| async { Err::<ApiResponse, _>(ApiError::internal("ran")) })
                .await;
        assert_eq!(response.status(), 400);
        assert_eq!(json_of(&response)["error"]["fields"]["lang"], "must not contain NUL characters");
    }

    #[tokio::test]
    async fn a_json_body_sent_as_a_form_or_without_a_type_is_a_415() {
        for headers in [
            serde_json::json!({"content-type": "application/x-www-form-urlencoded"}),
            serde_json::json!({"content-type": "text/plain"}),
            serde_json::json!({}),
        ] {
            let response = handle(&conventions(), "echo", event(r#"{"a":1}"#, headers.clone()), echo).await;
            assert_eq!(response.status(), 415, "{headers}");
            assert_eq!(json_of(&response)["error"]["code"], "unsupported_media_type");
        }
        let typed = serde_json::json!({"content-type": "application/json; charset=utf-8"});
        assert_eq!(handle(&conventions(), "echo", event(r#"{"a":1}"#, typed), echo).await.status(), 200);
    }
}
