//! HTTP conventions: the request and response every route handler sees, and the one error type.
//!
//! Handlers take an [`ApiRequest`] and return `Result<ApiResponse, ApiError>`; they never see API Gateway.
//! The trigger adapter (`trigger::http`) builds the request, enforces the body limit, and finishes every
//! response the same way: `X-Request-ID`, security headers, CORS for configured origins. Errors always have the
//! body `{"error": {"code", "message", "fields"?}}` and the status their kind calls for.

use std::collections::{BTreeMap, HashMap};

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::DbError;

/// An HTTP request as a route handler sees it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// The raw path, e.g. `/api/v1/topics/7`.
    pub path: String,
    /// Values of the route's `{param}` segments.
    pub path_params: HashMap<String, String>,
    /// Query parameters; a repeated parameter keeps its first value.
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// `X-Request-ID` of the caller when it sent a usable one, else the Lambda request id.
    pub request_id: String,
    /// The client's address as API Gateway saw it (`requestContext.http.sourceIp`), for per-client limits.
    pub source_ip: Option<String>,
}

impl ApiRequest {
    /// A request with no parameters, headers or body: the start of a test or a benchmark.
    pub fn new(method: Method, path: &str) -> Self {
        Self {
            method,
            path: path.to_string(),
            path_params: HashMap::new(),
            query: HashMap::new(),
            headers: HeaderMap::new(),
            body: Vec::new(),
            request_id: "local".to_string(),
            source_ip: None,
        }
    }

    /// The body as JSON of type `T`. 415 unless the request says it is JSON (`Content-Type: application/json`),
    /// so that a cross-site form post, which cannot send that type without a preflight, never reaches a JSON
    /// route; 400 with serde's explanation when it is not valid JSON for the route; 400 naming the field when a
    /// string holds a NUL character, which no text of ours may contain and PostgreSQL cannot store.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.require_json_content_type()?;
        if self.body.is_empty() {
            return Err(ApiError::bad_request("invalid_json", "the request body is empty; a JSON object was expected"));
        }
        let invalid = |e: serde_json::Error| {
            ApiError::bad_request("invalid_json", format!("the request body is not valid JSON for this route: {e}"))
        };
        // A NUL can only arrive escaped (`\u0000`): JSON does not allow raw control characters in strings, so a
        // body without that escape cannot hold one and is read directly.
        if !contains(&self.body, b"u0000") {
            return serde_json::from_slice(&self.body).map_err(invalid);
        }
        let value: serde_json::Value = serde_json::from_slice(&self.body).map_err(invalid)?;
        if let Some(field) = text::first_nul(&value) {
            return Err(text::nul_refused(&field));
        }
        serde_json::from_value(value).map_err(invalid)
    }

    /// As [`ApiRequest::json`], but a NUL character in a string becomes U+FFFD instead of a 400: for a sender that
    /// would deliver a refused body again and again rather than fix it (Telegram's webhook updates).
    pub fn json_replacing_nul<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !contains(&self.body, b"u0000") {
            return self.json();
        }
        self.require_json_content_type()?;
        let invalid = |e: serde_json::Error| {
            ApiError::bad_request("invalid_json", format!("the request body is not valid JSON for this route: {e}"))
        };
        let mut value: serde_json::Value = serde_json::from_slice(&self.body).map_err(invalid)?;
        text::replace_nul(&mut value);
        serde_json::from_value(value).map_err(invalid)
    }

    /// 415 unless a non-empty body is declared as JSON (`application/json`, or a `+json` type), with or without
    /// parameters such as `charset`. An empty body needs no type.
    pub fn require_json_content_type(&self) -> Result<(), ApiError> {
        if self.body.is_empty() {
            return Ok(());
        }
        let essence =
            self.header("content-type").map(|t| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some(t) if t == "application/json" || (t.starts_with("application/") && t.ends_with("+json")) => Ok(()),
            other => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                match other {
                    Some(t) => format!("the request body must be JSON sent as `Content-Type: application/json`, not `{t}`"),
                    None => "the request body must be JSON sent as `Content-Type: application/json`; no content type was given".to_string(),
                },
            )),
        }
    }

    /// Sets a JSON body and says so in `Content-Type`, as a client of a JSON route does.
    pub fn set_json_body(&mut self, body: impl Into<Vec<u8>>) {
        self.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = body.into();
    }

    /// A query parameter, trimmed; an empty value counts as absent.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A numeric id from the path, e.g. `{task_id}`: 400 when it is not a positive integer. Whether it exists is
    /// the handler's question (404).
    pub fn path_id(&self, name: &str) -> Result<i64, ApiError> {
        self.path_params.get(name).and_then(|v| v.parse::<i64>().ok()).filter(|id| *id > 0).ok_or_else(|| {
            ApiError::bad_request("invalid_path", format!("`{name}` must be a positive integer"))
                .with_field(name, "must be a positive integer")
        })
    }

    /// A UUID from the path, e.g. `{upload_id}`: 400 when it is not one.
    pub fn path_uuid(&self, name: &str) -> Result<uuid::Uuid, ApiError> {
        self.path_params.get(name).and_then(|v| uuid::Uuid::parse_str(v).ok()).ok_or_else(|| {
            ApiError::bad_request("invalid_path", format!("`{name}` must be a UUID")).with_field(name, "must be a UUID")
        })
    }

    /// An optional integer query parameter within bounds; 400 naming the parameter otherwise.
    pub fn query_int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.query_param(name) {
            None => Ok(None),
            Some(raw) => raw.parse::<i64>().ok().filter(|v| (min..=max).contains(v)).map(Some).ok_or_else(|| {
                ApiError::bad_request("invalid_query", format!("`{name}` must be an integer from {min} to {max}"))
                    .with_field(name, &format!("must be an integer from {min} to {max}"))
            }),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Text a client sends: the one rule every text input shares, checked at the edge.
pub mod text {
    use super::ApiError;

    /// The first string (or object key) holding a NUL character, as a field path: `first_name`,
    /// `tasks[3].question`. PostgreSQL's text cannot store U+0000 and no text of ours has a use for it.
    pub fn first_nul(value: &serde_json::Value) -> Option<String> {
        fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
            match value {
                serde_json::Value::String(s) => s.contains('\0').then(|| path.to_string()),
                serde_json::Value::Array(items) => {
                    items.iter().enumerate().find_map(|(i, v)| walk(v, &format!("{path}[{i}]")))
                }
                serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
                    let name = k.replace('\0', "\\u0000");
                    let here = if path.is_empty() { name } else { format!("{path}.{name}") };
                    if k.contains('\0') { Some(here) } else { walk(v, &here) }
                }),
                _ => None,
            }
        }
        walk(value, "")
    }

    /// Replaces every NUL character of every string (and object key) with U+FFFD.
    pub fn replace_nul(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
            serde_json::Value::Array(items) => items.iter_mut().for_each(replace_nul),
            serde_json::Value::Object(fields) => {
                let taken = std::mem::take(fields);
                for (k, mut v) in taken {
                    replace_nul(&mut v);
                    fields.insert(k.replace('\0', "\u{FFFD}"), v);
                }
            }
            _ => {}
        }
    }

    /// The 400 for a NUL character in `field`.
    pub fn nul_refused(field: &str) -> ApiError {
        let field = if field.is_empty() { "body" } else { field };
        ApiError::bad_request(
            "invalid_text",
            format!("`{field}` contains a NUL character (U+0000), which no text may contain"),
        )
        .with_field(field, "must not contain NUL characters")
    }

    /// 400 naming `field` when `value` holds a NUL character.
    pub fn refuse_nul(field: &str, value: &str) -> Result<(), ApiError> {
        if value.contains('\0') { Err(nul_refused(field)) } else { Ok(()) }
    }
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// A JSON response.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Self {
        // Serialising our own types cannot fail; should it ever, the client still gets valid JSON.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self { status, headers, body }
    }

    pub fn ok<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::json(StatusCode::OK, value)
    }

    /// An HTML document (a server-rendered page). The trigger adapter sends it as text and
    /// [`Conventions::finish`] gives it a Content-Security-Policy.
    pub fn html(status: StatusCode, document: String) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        Self { status, headers, body: document.into_bytes() }
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
}

/// Every error a route can answer with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Per-field problems of a validation failure.
    pub fields: Option<BTreeMap<String, String>>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: None, retry_after: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 with the problem of each field.
    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        let message = format!("invalid value for: {}", names.join(", "));
        Self { fields: Some(fields), ..Self::new(StatusCode::BAD_REQUEST, "validation_failed", message) }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is over the limit of {limit} bytes"),
        )
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn rate_limited(retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; try again later")
        }
    }

    /// 503: a dependency is down; the client may retry after a few seconds.
    pub fn unavailable(dependency: &str) -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("{dependency} is unavailable; try again shortly"),
            )
        }
    }

    /// 500: a fault of ours. The detail is logged, never sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
    }

    /// Adds the problem of one field to the error's `fields`.
    pub fn with_field(mut self, field: &str, problem: &str) -> Self {
        self.fields.get_or_insert_with(BTreeMap::new).insert(field.to_string(), problem.to_string());
        self
    }

    /// The response this error answers with.
    pub fn to_response(&self) -> ApiResponse {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            fields: Option<&'a BTreeMap<String, String>>,
        }
        let body = Body { error: Inner { code: self.code, message: &self.message, fields: self.fields.as_ref() } };
        let mut response = ApiResponse::json(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response.headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
                ApiError::unavailable("the database")
            }
            other => ApiError::internal(other),
        }
    }
}

/// In a request, Telegram failing is a dependency that is down: 503.
impl From<crate::bot::BotError> for ApiError {
    fn from(e: crate::bot::BotError) -> Self {
        tracing::warn!(error = %e, "a Bot API call failed");
        ApiError::unavailable("Telegram")
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> Self {
        tracing::warn!(error = %e, "object storage unavailable");
        ApiError::unavailable("object storage")
    }
}

/// The headers every response carries, and CORS for configured origins.
#[derive(Debug, Clone)]
pub struct Conventions {
    pub cors_allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
}

/// A caller's `X-Request-ID` is echoed only when it is short printable ASCII; otherwise ours is used.
pub fn usable_request_id(candidate: Option<&str>) -> Option<&str> {
    candidate.filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
}

impl Conventions {
    /// Adds `X-Request-ID`, the security headers and, for an allowed `Origin`, the CORS headers.
    pub fn finish(&self, response: &mut ApiResponse, request_id: &str, origin: Option<&str>) {
        let h = &mut response.headers;
        if let Ok(id) = HeaderValue::from_str(request_id) {
            h.insert("x-request-id", id);
        }
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // A page that must not leak its address (the reset page's token) sets a stricter policy of its own.
        h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
        // A response with its own policy (the Mini App's page) decides its framing with `frame-ancestors`; the rest
        // may not be framed at all.
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            let is_html =
                h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
            if is_html {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'self'; img-src 'self' data: https:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
                );
            }
        }
        if let Some(origin) = origin.filter(|o| self.cors_allowed_origins.iter().any(|allowed| allowed == o)) {
            if let Ok(value) = HeaderValue::from_str(origin) {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
                h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("x-request-id, retry-after"));
            }
        }
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(e: &ApiError) -> serde_json::Value {
        serde_json::from_slice(&e.to_response().body).unwrap()
    }

    #[test]
    fn each_error_kind_maps_to_its_status() {
        let cases = [
            (ApiError::bad_request("invalid_json", "x"), 400),
            (ApiError::validation(BTreeMap::from([("name".into(), "too long".into())])), 400),
            (ApiError::unauthorized("x"), 401),
            (ApiError::forbidden("x"), 403),
            (ApiError::not_found("x"), 404),
            (ApiError::conflict("x"), 409),
            (ApiError::payload_too_large(10), 413),
            (ApiError::unprocessable("x", "x"), 422),
            (ApiError::rate_limited(60), 429),
            (ApiError::unavailable("the database"), 503),
            (ApiError::internal("boom"), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.to_response().status.as_u16(), status, "{error}");
        }
    }

    #[test]
    fn the_error_body_has_code_message_and_fields() {
        let e = ApiError::validation(BTreeMap::from([("email".into(), "is not an address".into())]));
        let body = body_of(&e);
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["fields"]["email"], "is not an address");
        assert!(body["error"]["message"].as_str().unwrap().contains("email"));
    }

    #[test]
    fn an_internal_error_never_leaks_its_detail() {
        let body = body_of(&ApiError::internal("password=hunter2 in connection string"));
        assert!(!body.to_string().contains("hunter2"));
    }

    #[test]
    fn unavailable_and_rate_limited_carry_retry_after() {
        let r = ApiError::unavailable("the database").to_response();
        assert_eq!(r.headers[header::RETRY_AFTER], "5");
        assert_eq!(ApiError::rate_limited(60).to_response().headers[header::RETRY_AFTER], "60");
    }

    #[test]
    fn a_database_outage_is_a_503_and_a_query_fault_a_500() {
        assert_eq!(ApiError::from(DbError::Unavailable("refused".into())).status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ApiError::from(DbError::Config("bad".into())).status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    fn json_request(body: &str) -> ApiRequest {
        let mut req = ApiRequest::new(Method::POST, "/x");
        req.set_json_body(body.as_bytes());
        req
    }

    #[test]
    fn a_nul_in_any_string_of_a_json_body_is_a_400_naming_its_field() {
        let cases = [
            (r#"{"name": "Ada\u0000"}"#, "name"),
            (r#"{"user": {"names": ["ok", "b\u0000d"]}}"#, "user.names[1]"),
            (r#"{"k\u0000": 1}"#, "k\\u0000"),
        ];
        for (body, field) in cases {
            let err = json_request(body).json::<serde_json::Value>().unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(err.code, "invalid_text");
            assert_eq!(
                err.fields.as_ref().and_then(|f| f.get(field)).map(String::as_str),
                Some("must not contain NUL characters"),
                "{body}"
            );
        }
        // An escaped backslash before `u0000` is a backslash and text, not a NUL.
        let value: serde_json::Value = json_request(r#"{"code": "\\u0000"}"#).json().unwrap();
        assert_eq!(value["code"], "\\u0000");
    }

    #[test]
    fn a_sender_that_cannot_fix_its_body_gets_its_nuls_replaced() {
        let value: serde_json::Value =
            json_request(r#"{"message": {"text": "a\u0000b", "k\u0000": ["\u0000"]}}"#).json_replacing_nul().unwrap();
        assert_eq!(value, serde_json::json!({"message": {"text": "a\u{FFFD}b", "k\u{FFFD}": ["\u{FFFD}"]}}));
        assert!(text::first_nul(&value).is_none());
    }

    #[test]
    fn a_body_that_is_not_declared_json_is_a_415_and_an_empty_one_needs_no_type() {
        let mut req = json_request(r#"{"a": 1}"#);
        req.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain;charset=UTF-8"));
        let err = req.json::<serde_json::Value>().unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (415, "unsupported_media_type"));
        assert!(err.message.contains("text/plain"), "{}", err.message);
        req.headers.remove(header::CONTENT_TYPE);
        assert_eq!(req.json::<serde_json::Value>().unwrap_err().status.as_u16(), 415);
        req.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/merge-patch+json"));
        assert!(req.json::<serde_json::Value>().is_ok());
        assert!(ApiRequest::new(Method::POST, "/x").require_json_content_type().is_ok());
    }

    #[test]
    fn malformed_json_is_a_400_that_says_why() {
        let req = json_request("{\"a\": ");
        let err = req.json::<serde_json::Value>().unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("EOF"), "{}", err.message);
        let empty = ApiRequest::new(Method::POST, "/x").json::<serde_json::Value>().unwrap_err();
        assert_eq!((empty.status.as_u16(), empty.code), (400, "invalid_json"));
    }

    #[test]
    fn finishing_adds_request_id_security_headers_and_cors_only_for_allowed_origins() {
        let conventions = Conventions { cors_allowed_origins: vec!["https://app.example".into()], max_body_bytes: 10 };
        let mut allowed = ApiResponse::ok(&serde_json::json!({}));
        conventions.finish(&mut allowed, "req-1", Some("https://app.example"));
        assert_eq!(allowed.headers["x-request-id"], "req-1");
        assert_eq!(allowed.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(allowed.headers[header::X_FRAME_OPTIONS], "DENY");
        assert!(allowed.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert!(!allowed.headers.contains_key(header::CONTENT_SECURITY_POLICY), "CSP is for HTML");

        let mut other = ApiResponse::ok(&serde_json::json!({}));
        conventions.finish(&mut other, "req-2", Some("https://evil.example"));
        assert!(!other.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn only_printable_short_request_ids_are_echoed() {
        assert_eq!(usable_request_id(Some("abc-123")), Some("abc-123"));
        assert_eq!(usable_request_id(Some("")), None);
        assert_eq!(usable_request_id(Some("has space")), None);
        assert_eq!(usable_request_id(Some(&"x".repeat(200))), None);
    }
}
