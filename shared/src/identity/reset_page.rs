//! `GET /reset-password`: the page the password-reset mail links to (`/reset-password?token=…`).
//!
//! With a token it asks for the new password and posts it, as JSON, to `POST /api/v1/auth/password-reset/confirm`;
//! without one (or when the link turns out used or expired) it asks for the address and posts it to
//! `POST /api/v1/auth/password-reset`. The page is the same for every request: the token is read by the page's
//! own script from the address, never printed into the HTML by the server. Its style and script are inline and
//! allowed by their SHA-256 in the page's own Content-Security-Policy, so nothing else can run there; it sends no
//! referrer, so the token does not leave with a click.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use platform::Platform;
use platform::http::{ApiError, ApiRequest, ApiResponse};

const STYLE: &str = include_str!("reset_page/page.css");
const SCRIPT: &str = include_str!("reset_page/page.js");

/// The page and its policy, made once per instance.
struct Page {
    html: String,
    policy: HeaderValue,
}

static PAGE: LazyLock<Page> = LazyLock::new(|| {
    let html = include_str!("reset_page/page.html").replace("{STYLE}", STYLE).replace("{SCRIPT}", SCRIPT);
    let digest = |text: &str| BASE64.encode(Sha256::digest(text.as_bytes()));
    let policy = format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; connect-src 'self'; form-action 'none'; \
         base-uri 'none'; frame-ancestors 'none'",
        digest(SCRIPT),
        digest(STYLE)
    );
    // Only base64 and ASCII go into the policy, so it is always a valid header value.
    Page { html, policy: HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'")) }
});

/// `GET /reset-password[?token=…]`: the page.
pub async fn route(_platform: &Platform, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(page())
}

fn page() -> ApiResponse {
    ApiResponse::html(StatusCode::OK, PAGE.html.clone())
        .with_header(header::CONTENT_SECURITY_POLICY, PAGE.policy.clone())
        .with_header(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"))
        .with_header(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))
        .with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_allows_exactly_its_own_inline_script_and_style() {
        let response = page();
        let html = String::from_utf8(response.body).unwrap();
        let policy = response.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
        let inline = |open: &str, close: &str| {
            let start = html.find(open).unwrap() + open.len();
            html[start..start + html[start..].find(close).unwrap()].to_string()
        };
        let script = inline("<script>", "</script>");
        let style = inline("<style>", "</style>");
        assert_eq!(script, SCRIPT);
        assert!(
            policy.contains(&format!("script-src 'sha256-{}'", BASE64.encode(Sha256::digest(script.as_bytes())))),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("style-src 'sha256-{}'", BASE64.encode(Sha256::digest(style.as_bytes())))),
            "{policy}"
        );
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
        assert_eq!(response.headers[header::REFERRER_POLICY], "no-referrer");
    }

    #[test]
    fn the_page_posts_json_to_both_reset_routes_and_prints_no_token() {
        let html = String::from_utf8(page().body).unwrap();
        assert!(
            html.contains("'/api/v1/auth/password-reset/confirm'") && html.contains("'/api/v1/auth/password-reset'")
        );
        assert!(html.contains("'content-type': 'application/json'"));
        assert!(!html.contains("{STYLE}") && !html.contains("{SCRIPT}"));
    }
}
