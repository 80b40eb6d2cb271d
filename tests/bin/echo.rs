//! A route function for the local cloud's round-trip test: answers with what it received (method, path, path
//! parameters, query, cookies, body as base64), and answers binary bodies and cookies back; `?exit=N` exits the
//! process mid-invocation and `?sleep_ms=N` waits before answering (a crash and a timeout). It lives with the
//! tests and only appears in `tests/fixtures/echo-template.yaml`, never in the project's template.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderValue, StatusCode, header};
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::{BoxError, Function, Platform, Trigger};

async fn echo(_platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    // What a broken function does, for the local cloud's own tests: exits mid-invocation, or overruns its timeout.
    if let Some(code) = request.query.get("exit").and_then(|c| c.parse().ok()) {
        std::process::exit(code);
    }
    if let Some(ms) = request.query.get("sleep_ms").and_then(|ms| ms.parse().ok()) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if request.query.contains_key("binary") {
        // The body back, byte for byte, as an image: it must leave base64-encoded and arrive as the same bytes.
        let mut response =
            ApiResponse { status: StatusCode::CREATED, headers: Default::default(), body: request.body.clone() };
        response.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        response.headers.append(header::SET_COOKIE, HeaderValue::from_static("first=1; HttpOnly"));
        response.headers.append(header::SET_COOKIE, HeaderValue::from_static("second=2; Secure"));
        return Ok(response);
    }
    Ok(ApiResponse::ok(&serde_json::json!({
        "method": request.method.as_str(),
        "path": request.path,
        "path_params": request.path_params,
        "query": request.query,
        "cookie": request.header("cookie"),
        "body_base64": BASE64.encode(&request.body),
    })))
}

fn main() -> Result<(), BoxError> {
    static ECHO: Function = Function {
        name: "echo",
        trigger: Trigger::Http {
            key: "ANY /echo/{name}",
            handler: |platform, request| Box::pin(echo(platform, request)),
        },
    };
    ECHO.run()
}
