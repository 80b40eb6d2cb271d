//! The Telegram Mini App's files (`webapp/`), served at `/app/` by the `mini-app` route function.
//!
//! The files are compiled into that function's binary (its build script lists `webapp/`), not into `shared`, so
//! editing the web app rebuilds one small crate. The binary hands them to [`install`] before it serves; this module
//! answers requests from that table:
//! - `/app` redirects to `/app/` (so relative asset URLs resolve), keeping the query (`?startapp=…`);
//! - `/app/` and any path without a file extension is the app's page, `index.html` (the app routes by the hash);
//! - every other file by its path, with a strong `ETag` (304 on `If-None-Match`) and a long cache lifetime: the page
//!   names each file with `?v=<its hash>`, so a deploy is seen at once while unchanged files stay cached;
//! - text gzip-compressed (once, at the cold start) for a client that accepts it: API Gateway's HTTP APIs do not
//!   compress, and the scripts shrink to about a quarter;
//! - the page gets a Content-Security-Policy that allows Telegram's script, the API on the same origin, media from
//!   the media origin and avatar uploads to the bucket's pre-signed URLs, and framing by Telegram's web clients.

use std::collections::HashMap;
use std::sync::OnceLock;

use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use platform::Platform;
use platform::config::Config;
use platform::http::{ApiError, ApiRequest, ApiResponse};

/// One file of the web app, as the build script lists it: the path under `webapp/` and the bytes.
pub struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
}

struct File {
    body: Vec<u8>,
    /// The body gzip-compressed, when the type is text and that is smaller; its own ETag (another representation).
    gzip: Option<(Vec<u8>, String)>,
    content_type: &'static str,
    etag: String,
}

struct Site {
    files: HashMap<&'static str, File>,
}

static SITE: OnceLock<Site> = OnceLock::new();
/// The page's Content-Security-Policy, from the configuration: made on the first page request, then reused.
static POLICY: OnceLock<HeaderValue> = OnceLock::new();

/// The page (`index.html`) and the cache lifetime of everything else.
const INDEX: &str = "index.html";
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";
const PAGE_CACHE: &str = "no-cache";

/// Makes `assets` what this instance serves. Call once, before serving; a second call is ignored.
pub fn install(assets: &'static [Asset]) {
    SITE.get_or_init(|| Site::new(assets));
}

impl Site {
    fn new(assets: &'static [Asset]) -> Self {
        let hash = |body: &[u8]| hex::encode(&Sha256::digest(body)[..8]);
        let versions: Vec<(&str, String)> =
            assets.iter().filter(|a| a.path != INDEX).map(|a| (a.path, hash(a.body))).collect();
        let mut files = HashMap::new();
        for asset in assets {
            let body = if asset.path == INDEX { versioned_page(asset.body, &versions) } else { asset.body.to_vec() };
            let hex = hash(&body);
            let content_type = content_type(asset.path);
            let gzip = is_text(content_type)
                .then(|| gzip(&body))
                .filter(|z| z.len() < body.len())
                .map(|z| (z, format!("\"{hex}-gz\"")));
            files.insert(asset.path, File { content_type, etag: format!("\"{hex}\""), gzip, body });
        }
        Self { files }
    }
}

/// The page with each file it names by a quoted relative URL (`src="app.js"`) turned into `app.js?v=<hash>`.
fn versioned_page(page: &[u8], versions: &[(&str, String)]) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(page).into_owned();
    for (path, version) in versions {
        text = text.replace(&format!("=\"{path}\""), &format!("=\"{path}?v={version}\""));
    }
    text.into_bytes()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn is_text(content_type: &str) -> bool {
    content_type.starts_with("text/") || content_type.ends_with("json") || content_type.contains("svg")
}

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    encoder.write_all(body).and_then(|()| encoder.finish()).unwrap_or_default()
}

/// The page's Content-Security-Policy: scripts from this origin and Telegram's, API calls to this origin and
/// avatar uploads to the bucket, images from the media origin, framing by Telegram's web clients only.
fn content_security_policy(config: &Config) -> String {
    let media = origin(&config.media_base_url).unwrap_or_default();
    // Pre-signed uploads go to the local endpoint when one is set, else to the bucket's virtual-hosted address.
    let uploads = config
        .s3_endpoint_url
        .as_deref()
        .and_then(origin)
        .unwrap_or_else(|| format!("https://{}.s3.{}.amazonaws.com", config.media_bucket, config.aws_region));
    format!(
        "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; \
         img-src 'self' data: blob: {media} https://t.me; connect-src 'self' {uploads}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
    )
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

/// `GET /app` and `GET /app/{proxy+}`.
pub async fn route(platform: &'static Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let site = SITE
        .get()
        .ok_or_else(|| ApiError::internal("the mini-app function serves no files: install() was not called"))?;
    let path = request.path.strip_prefix("/app").unwrap_or(&request.path);
    if path.is_empty() {
        let query: Vec<String> = request.query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let location = if query.is_empty() { "/app/".to_string() } else { format!("/app/?{}", query.join("&")) };
        let location = HeaderValue::from_str(&location)
            .map_err(|_| ApiError::bad_request("invalid_query", "the query cannot be kept"))?;
        return Ok(ApiResponse {
            status: StatusCode::PERMANENT_REDIRECT,
            headers: Default::default(),
            body: Vec::new(),
        }
        .with_header(header::LOCATION, location));
    }
    let name = path.trim_start_matches('/');
    // A path without an extension is a page of the app (it routes by the hash, but links may carry a path).
    let is_page = name.is_empty() || !name.rsplit('/').next().unwrap_or(name).contains('.');
    let key = if is_page { INDEX } else { name };
    let Some(file) = site.files.get(key) else {
        return Err(ApiError::not_found(format!("the Mini App has no file {name:?}")));
    };
    let accepts_gzip = request
        .header("accept-encoding")
        .is_some_and(|v| v.split(',').any(|e| e.split(';').next().unwrap_or("").trim() == "gzip"));
    let (body, tag, encoding) = match &file.gzip {
        Some((zipped, tag)) if accepts_gzip => (zipped, tag, Some("gzip")),
        _ => (&file.body, &file.etag, None),
    };
    let etag = HeaderValue::from_str(tag).map_err(|_| ApiError::internal("an ETag is not a header value"))?;
    let cache = HeaderValue::from_static(if is_page { PAGE_CACHE } else { ASSET_CACHE });
    let fresh =
        request.header("if-none-match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut response = if fresh {
        ApiResponse { status: StatusCode::NOT_MODIFIED, headers: Default::default(), body: Vec::new() }
    } else {
        let mut ok = ApiResponse { status: StatusCode::OK, headers: Default::default(), body: body.clone() }
            .with_header(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
        if let Some(encoding) = encoding {
            ok = ok.with_header(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        ok
    };
    if file.gzip.is_some() {
        response.headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    response = response.with_header(header::ETAG, etag).with_header(header::CACHE_CONTROL, cache);
    if is_page {
        let policy = match POLICY.get() {
            Some(policy) => policy.clone(),
            None => {
                let policy = HeaderValue::from_str(&content_security_policy(&platform.config))
                    .map_err(|_| ApiError::internal("the Content-Security-Policy is not a header value"))?;
                POLICY.get_or_init(|| policy).clone()
            }
        };
        response = response.with_header(header::CONTENT_SECURITY_POLICY, policy);
    }
    Ok(response)
}

/// Percent-encodes a query key or value for the redirect.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_each_file_with_its_version() {
        let page =
            br#"<link rel="stylesheet" href="app.css"><script src="app.js"></script><a href="https://x/app.js">"#;
        let out =
            String::from_utf8(versioned_page(page, &[("app.css", "aa".into()), ("app.js", "bb".into())])).unwrap();
        assert_eq!(
            out,
            r#"<link rel="stylesheet" href="app.css?v=aa"><script src="app.js?v=bb"></script><a href="https://x/app.js">"#
        );
    }

    #[test]
    fn origins_and_content_types() {
        assert_eq!(origin("http://127.0.0.1:55000/quiz-media-bucket").as_deref(), Some("http://127.0.0.1:55000"));
        assert_eq!(origin("https://d1.cloudfront.net").as_deref(), Some("https://d1.cloudfront.net"));
        assert_eq!(origin("not a url"), None);
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("icons/logo.svg"), "image/svg+xml");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn text_is_compressed_once_with_its_own_etag() {
        static ASSETS: &[Asset] = &[
            Asset { path: "index.html", body: b"<script src=\"app.js\"></script>" },
            Asset {
                path: "app.js",
                body: b"const a = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';",
            },
            Asset { path: "logo.png", body: &[0x89, b'P', b'N', b'G'] },
        ];
        let site = Site::new(ASSETS);
        let script = &site.files["app.js"];
        let (zipped, tag) = script.gzip.as_ref().expect("a compressible script is compressed");
        assert!(zipped.len() < script.body.len());
        assert_ne!(tag, &script.etag);
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut unzipped).unwrap();
        assert_eq!(unzipped, script.body);
        assert!(site.files["logo.png"].gzip.is_none(), "images are not compressed again");
        assert!(String::from_utf8_lossy(&site.files["index.html"].body).contains("app.js?v="));
    }
}
