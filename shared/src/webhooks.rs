//! Outbound webhooks (DOMAIN §7): admins register URLs, and every published translation of a task is announced
//! to each active URL as a `quiz_published` event.
//!
//! The publishing job publishes `quiz.published` on the bus; a rule sends it to the webhook queue, whose job
//! (`deliver-webhooks`) records one delivery per active URL and POSTs it, signed. A delivery that fails is tried
//! again later by a `deliver-webhook` job of its own, after a delay that doubles each time; after the last
//! attempt it is recorded as failed. Everything a delivery did is in `webhook_deliveries`.
//!
//! The signature: `X-Quiz-Signature: sha256=<hex HMAC-SHA256 of "<X-Quiz-Timestamp>.<body>" with the webhook's
//! secret>`, so a receiver can check both the body and how old the request is.
//!
//! Where a delivery may go: deployed, only to public addresses, over https. Registration refuses a URL whose host
//! is plainly not public (an IP address that is not, in any spelling, or a local-only name), and every delivery
//! checks the URL again, resolves its host itself, refuses it if any address is not public, and connects to exactly
//! the addresses it checked (no second lookup that could answer otherwise). Locally (`WEBHOOK_LOOPBACK_ONLY=true`)
//! the same checks allow loopback only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::header::CONTENT_TYPE;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use url::{Host, Url};
use uuid::Uuid;

use crate::identity::Viewer;
use platform::Platform;
use platform::db::Connection;
use platform::events::{self, DomainEvent, EventKind};
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::jobs::{JobEnvelope, JobKind, Payload};
use platform::trigger::{JobError, JobFuture};

/// POSTs per delivery before it is recorded as failed.
pub const MAX_ATTEMPTS: i32 = 5;
/// Active URLs at most (each published translation is one POST to each).
pub const MAX_WEBHOOKS: i64 = 20;
/// The event every published translation produces.
pub const QUIZ_PUBLISHED: &str = "quiz_published";

/// `sha256=<hex>` of `"<timestamp>.<body>"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delay before attempt `attempt + 1`: the base, doubled after each failed attempt.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    base.saturating_mul(1 << attempts.clamp(1, 10).saturating_sub(1) as u32)
}

/// Whether a URL may receive deliveries, as far as the URL alone tells; answers it parsed (and normalised: the
/// host lower-case, an IPv4 address in any of its spellings — `127.1`, `2130706433`, `0x7f000001` — as dotted
/// decimal), or what is wrong with it.
///
/// Deployed (`loopback_only` false): an `https` URL whose host is a public IP address or a name that is not
/// obviously local (see [`local_name`]). Whether a name's addresses are public is only known when it is resolved,
/// so each delivery resolves it again and checks every address ([`delivery_addresses`]).
///
/// Locally and in CI (`WEBHOOK_LOOPBACK_ONLY=true`): `http` or `https` to a loopback address or `localhost`
/// only, so no run of the tests or of the API fuzzing can send a delivery off the machine.
///
/// Never: a user name or password in the URL (hyper would not send them; the signature is how a receiver knows
/// the sender).
pub fn acceptable_url(url: &str, loopback_only: bool) -> Result<Url, &'static str> {
    if url.len() > 2000 {
        return Err("must be at most 2000 characters");
    }
    let parsed = Url::parse(url).map_err(|_| "must be an absolute http(s) URL")?;
    if parsed.as_str().len() > 2000 {
        return Err("must be at most 2000 characters");
    }
    let https = match parsed.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(if loopback_only { "must be an http(s) URL" } else { "must be an https URL" }),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not hold a user name or password");
    }
    let host = parsed.host().ok_or("must name a host")?;
    if loopback_only {
        let loopback = match &host {
            Host::Domain(name) => name.trim_end_matches('.') == "localhost",
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
        };
        return if loopback { Ok(parsed) } else { Err("must be a loopback address here (WEBHOOK_LOOPBACK_ONLY)") };
    }
    if !https {
        return Err("must be an https URL");
    }
    match host {
        Host::Ipv4(ip) if !is_public(IpAddr::V4(ip)) => {
            Err("must be a public address (not loopback, private, link-local or reserved)")
        }
        Host::Ipv6(ip) if !is_public(IpAddr::V6(ip)) => {
            Err("must be a public address (not loopback, private, link-local or reserved)")
        }
        Host::Domain(name) if local_name(name) => {
            Err("must be a public host name (not localhost or a local-only name)")
        }
        _ => Ok(parsed),
    }
}

/// A name that never names a public host: `localhost` and its subdomains (RFC 6761), a name of one label (found
/// through the resolver's search domains, i.e. inside the network), and the special-use or private-use suffixes
/// `.local` (mDNS), `.internal`, `.home.arpa`, `.localdomain`, `.invalid`, `.test`, `.example`. The name is as the
/// url crate gives it: lower case, punycode for IDNs, perhaps with a final dot.
pub fn local_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    const SUFFIXES: [&str; 8] =
        ["localhost", "local", "internal", "home.arpa", "localdomain", "invalid", "test", "example"];
    !name.contains('.') || SUFFIXES.iter().any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")))
}

/// Whether an address is one a delivery may go to in deployed mode: a public unicast address. Not: this network
/// and unspecified (0/8), private (10/8, 172.16/12, 192.168/16), shared CGNAT (100.64/10), loopback (127/8),
/// link-local (169.254/16, where the instance metadata service is), IETF protocol assignments (192.0.0/24), the
/// documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20), benchmarking
/// (198.18/15, and 2001:2::/48 within 2001::/23), the 6to4 relay anycast (192.88.99/24), multicast (224/4,
/// ff00::/8), reserved and broadcast (240/4); in IPv6 everything outside global unicast 2000::/3 (so also `::`,
/// `::1`, IPv4-compatible `::a.b.c.d`, unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
/// discard-only 100::/64), the IETF protocol assignments 2001::/23 (Teredo among them), and the local-use NAT64
/// prefix 64:ff9b:1::/48. An address that embeds an IPv4 address — IPv4-mapped `::ffff:a.b.c.d`, NAT64's
/// `64:ff9b::a.b.c.d`, 6to4's `2002:aabb:ccdd::/48` — is as public as the IPv4 address it reaches.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0
        || a == 10
        || (a == 100 && (64..128).contains(&b))
        || a == 127
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224;
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(s[6], s[7]));
    }
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    if s[0] == 0x2001 && s[1] < 0x200 {
        return false;
    }
    if s[0] == 0x2001 && s[1] == 0x0db8 {
        return false;
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    if s[0] == 0x3fff && s[1] < 0x1000 {
        return false;
    }
    true
}

/// How long a delivery waits for the name's addresses.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a delivery was not made.
#[derive(Debug)]
pub enum Undeliverable {
    /// The URL itself is not allowed (any more): it never will be, so the delivery fails at once.
    Url(String),
    /// The name did not resolve, or resolved to an address that is not allowed: DNS may change, so the delivery
    /// is tried again later, checked again.
    Address(String),
}

impl std::fmt::Display for Undeliverable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undeliverable::Url(e) | Undeliverable::Address(e) => f.write_str(e),
        }
    }
}

/// The addresses a delivery to `url` may connect to, resolved now: every address the host has, each of them
/// allowed (public deployed; loopback with `loopback_only`), or none at all — a name with one address that is
/// not allowed is refused whole, since which address a connection would take is not this code's choice to
/// trust. The connection then goes to exactly these ([`platform::outbound::HttpsClient::exchange_at`]), so a second
/// lookup cannot answer differently. A host that is an IP address is checked as it is, without a lookup.
pub async fn delivery_addresses(url: &Url, loopback_only: bool) -> Result<Vec<SocketAddr>, Undeliverable> {
    let port = url.port_or_known_default().ok_or_else(|| Undeliverable::Url("the URL has no port".into()))?;
    let addresses: Vec<SocketAddr> = match url.host() {
        None => return Err(Undeliverable::Url("the URL has no host".into())),
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
            .await
        {
            Ok(Ok(found)) => found.collect(),
            Ok(Err(e)) => return Err(Undeliverable::Address(format!("{name} does not resolve: {e}"))),
            Err(_) => return Err(Undeliverable::Address(format!("{name} did not resolve within {RESOLVE_TIMEOUT:?}"))),
        },
    };
    if addresses.is_empty() {
        return Err(Undeliverable::Address("the host has no address".into()));
    }
    let allowed = |ip: IpAddr| if loopback_only { ip.is_loopback() } else { is_public(ip) };
    if let Some(refused) = addresses.iter().find(|a| !allowed(a.ip())) {
        let rule =
            if loopback_only { "not a loopback address (WEBHOOK_LOOPBACK_ONLY)" } else { "not a public address" };
        return Err(Undeliverable::Address(format!("refused: the host resolves to {}, {rule}", refused.ip())));
    }
    Ok(addresses)
}

/// POSTs one delivery: the URL checked again (the rule may have changed since it was registered), the host
/// resolved and its addresses checked, and the request sent to exactly those addresses.
async fn post(
    platform: &Platform,
    url: &str,
    request: http::request::Builder,
    body: Vec<u8>,
) -> Result<StatusCode, Failure> {
    let loopback_only = platform.config.webhooks.loopback_only;
    let url = acceptable_url(url, loopback_only)
        .map_err(|problem| Failure::Refused(format!("refused: the URL {problem}")))?;
    let addresses = delivery_addresses(&url, loopback_only).await.map_err(|e| match e {
        Undeliverable::Url(e) => Failure::Refused(e),
        Undeliverable::Address(e) => Failure::Failed(e),
    })?;
    let request = request
        .uri(url.as_str())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Failure::Refused(format!("the URL cannot be requested: {e}")))?;
    let answer =
        platform.webhook_client().exchange_at(request, &addresses, 64 * 1024).await.map_err(Failure::Failed)?;
    Ok(answer.status)
}

/// Why an attempt did not deliver.
enum Failure {
    /// Trying again cannot help: the delivery is recorded failed now.
    Refused(String),
    /// This attempt failed; a later one may not.
    Failed(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    url: String,
}

#[derive(Debug, Serialize)]
struct Webhook {
    id: Uuid,
    url: String,
    active: bool,
    created_at: chrono::DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deliveries: Option<serde_json::Value>,
}

/// `POST /api/v1/admin/webhooks` with `{"url": …}`: registers a URL and answers its signing secret, once.
pub async fn register(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let admin = Viewer::admin(platform, &request).await?;
    let Registration { url } = request.json()?;
    // Stored as parsed: what was checked is what is delivered to, and one URL written two ways is one URL.
    let url = acceptable_url(url.trim(), platform.config.webhooks.loopback_only)
        .map_err(|problem| {
            ApiError::bad_request("validation_failed", format!("`url` {problem}")).with_field("url", problem)
        })?
        .to_string();
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(ApiError::internal)?;
    let secret = hex::encode(secret);
    let conn = platform.db.connection().await?;
    let active: i64 = conn
        .query_one("SELECT count(*) AS active_count FROM outbound_webhooks WHERE active", &[])
        .await?
        .get("active_count");
    if active >= MAX_WEBHOOKS {
        return Err(ApiError::unprocessable(
            "too_many_webhooks",
            format!("at most {MAX_WEBHOOKS} webhooks may be active; remove one first"),
        ));
    }
    let id = Uuid::new_v4();
    let row = conn
        .query_opt(
            "INSERT INTO outbound_webhooks (id, url, secret, created_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (url) WHERE active DO NOTHING RETURNING created_at",
            &[&id, &url, &secret, &admin.id()],
        )
        .await?;
    let Some(row) = row else { return Err(ApiError::conflict("this URL is registered already")) };
    let webhook =
        Webhook { id, url, active: true, created_at: row.get("created_at"), secret: Some(secret), deliveries: None };
    Ok(ApiResponse::json(StatusCode::CREATED, &webhook))
}

/// `GET /api/v1/admin/webhooks`: every registered URL with its deliveries by state (no secrets).
pub async fn list(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Viewer::admin(platform, &request).await?;
    let conn = platform.db.connection().await?;
    let rows = conn
        .query(
            "SELECT w.id, w.url, w.active, w.created_at,
                    jsonb_build_object('delivered', count(*) FILTER (WHERE d.state = 'delivered'),
                                       'pending', count(*) FILTER (WHERE d.state = 'pending'),
                                       'failed', count(*) FILTER (WHERE d.state = 'failed')) AS deliveries
               FROM outbound_webhooks w LEFT JOIN webhook_deliveries d ON d.webhook_id = w.id
              GROUP BY w.id ORDER BY w.created_at DESC LIMIT 100",
            &[],
        )
        .await?;
    let webhooks: Vec<Webhook> = rows
        .iter()
        .map(|r| Webhook {
            id: r.get("id"),
            url: r.get("url"),
            active: r.get("active"),
            created_at: r.get("created_at"),
            secret: None,
            deliveries: Some(r.get("deliveries")),
        })
        .collect();
    Ok(ApiResponse::ok(&serde_json::json!({ "webhooks": webhooks })))
}

/// `DELETE /api/v1/admin/webhooks/{webhook_id}`: stops deliveries to a URL (its record stays).
pub async fn remove(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_uuid("webhook_id")?;
    Viewer::admin(platform, &request).await?;
    let conn = platform.db.connection().await?;
    let found = conn.execute("UPDATE outbound_webhooks SET active = false WHERE id = $1", &[&id]).await?;
    if found == 0 {
        return Err(ApiError::not_found(format!("there is no webhook {id}")));
    }
    Ok(ApiResponse { status: StatusCode::NO_CONTENT, headers: Default::default(), body: Vec::new() })
}

/// Announces a published translation: the `quiz.published` event, whose id is the publication's, then marks it
/// announced on the caller's connection.
pub async fn announce(
    platform: &Platform,
    conn: &Connection,
    publication_id: Uuid,
    detail: &QuizPublished,
) -> Result<(), JobError> {
    platform
        .events
        .publish(&DomainEvent::of(publication_id, detail)?)
        .await
        .map_err(|e| JobError::new(e.to_string()))?;
    conn.execute("UPDATE telegram_publications SET event_published_at = now() WHERE id = $1", &[&publication_id])
        .await?;
    Ok(())
}

/// The `deliver-webhook` job's payload: a retry of one delivery.
#[derive(Debug, Serialize, Deserialize)]
struct Retry {
    delivery_id: Uuid,
}

impl Payload for Retry {
    const KIND: JobKind = JobKind::DeliverWebhook;
}

/// The `quiz.published` event: a translation of a task went out to its Telegram channel. Its id is the
/// publication's. Receivers get it as the delivery's `data`, as the event carried it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizPublished {
    pub publication_id: Uuid,
    pub task_id: i64,
    pub language: String,
    pub chat_id: i64,
    pub poll_id: Option<String>,
    pub poll_message_id: Option<i64>,
    pub published_at: DateTime<Utc>,
    pub topic: String,
    pub difficulty: String,
}

impl events::Detail for QuizPublished {
    const KIND: EventKind = EventKind::QuizPublished;
}

/// The `deliver-webhooks` job: a `quiz.published` event (one delivery per active URL), or a retry of one delivery.
pub fn job(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let deliveries: Vec<Uuid> = match job.kind {
            JobKind::DeliverWebhook => vec![job.payload::<Retry>()?.delivery_id],
            JobKind::Event => record_deliveries(platform, &job).await?,
            other => return Err(JobError::new(format!("deliver-webhooks does not run {other:?} jobs"))),
        };
        for delivery in deliveries {
            attempt(platform, delivery).await?;
        }
        Ok(())
    })
}

/// One delivery per active URL for the event, made once however often the event arrives.
async fn record_deliveries(platform: &Platform, job: &JobEnvelope) -> Result<Vec<Uuid>, JobError> {
    // Read as its type to refuse what is not a `quiz.published` event; receivers get the detail as it came.
    let _: QuizPublished = job.event_detail()?;
    let payload = serde_json::json!({ "type": QUIZ_PUBLISHED, "id": job.id, "occurred_at": job.enqueued_at, "data": job.payload });
    let conn = platform.db.connection().await?;
    let webhooks: Vec<Uuid> =
        conn.query("SELECT id FROM outbound_webhooks WHERE active", &[]).await?.iter().map(|r| r.get("id")).collect();
    let ids: Vec<Uuid> = webhooks.iter().map(|webhook| Uuid::new_v5(&job.id, webhook.as_bytes())).collect();
    let rows = conn
        .query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload)
             SELECT d, w, $3, $4, $5 FROM unnest($1::uuid[], $2::uuid[]) AS t(d, w)
             ON CONFLICT (id) DO NOTHING RETURNING id",
            &[&ids, &webhooks, &job.id, &QUIZ_PUBLISHED, &payload],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get("id")).collect())
}

/// POSTs one pending delivery; on failure, records it and schedules the next attempt, or gives up (at once when
/// the URL itself is no longer allowed).
async fn attempt(platform: &Platform, delivery_id: Uuid) -> Result<(), JobError> {
    let conn = platform.db.connection().await?;
    let Some(row) = conn
        .query_opt(
            "SELECT w.url, w.secret, d.payload, d.attempts, d.event_type FROM webhook_deliveries d
               JOIN outbound_webhooks w ON w.id = d.webhook_id
              WHERE d.id = $1 AND d.state = 'pending' AND w.active",
            &[&delivery_id],
        )
        .await?
    else {
        return Ok(());
    };
    let (url, secret, payload, attempts, event_type): (String, String, serde_json::Value, i32, String) =
        (row.get("url"), row.get("secret"), row.get("payload"), row.get("attempts"), row.get("event_type"));
    let body = serde_json::to_vec(&payload)?;
    let timestamp = Utc::now().timestamp();
    let request = Request::post("/")
        .header(CONTENT_TYPE, "application/json")
        .header("x-quiz-event", &event_type)
        .header("x-quiz-delivery", delivery_id.to_string())
        .header("x-quiz-timestamp", timestamp.to_string())
        .header("x-quiz-signature", signature(&secret, timestamp, &body))
        .header("user-agent", "quiz-webhooks/1");
    let outcome = post(platform, &url, request, body).await;
    let attempts = attempts + 1;
    let conn = platform.db.connection().await?;
    match outcome {
        Ok(status) if status.is_success() => {
            conn.execute(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = $2, last_status = $3, last_error = NULL, delivered_at = now()
                  WHERE id = $1",
                &[&delivery_id, &attempts, &i32::from(status.as_u16())],
            )
            .await?;
            tracing::info!(%delivery_id, attempts, "webhook delivered");
            return Ok(());
        }
        outcome => {
            let (status, error, last) = match outcome {
                Ok(status) => {
                    (Some(i32::from(status.as_u16())), format!("answered HTTP {status}"), attempts >= MAX_ATTEMPTS)
                }
                Err(Failure::Failed(e)) => (None, e, attempts >= MAX_ATTEMPTS),
                Err(Failure::Refused(e)) => (None, e, true),
            };
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = $2, last_status = $3, last_error = $4,
                        state = CASE WHEN $5 THEN 'failed' ELSE 'pending' END
                  WHERE id = $1",
                &[&delivery_id, &attempts, &status, &error, &last],
            )
            .await?;
            if last {
                tracing::warn!(%delivery_id, attempts, error, "webhook delivery failed for good");
                return Ok(());
            }
            let delay = backoff(platform.config.webhooks.retry_base, attempts);
            tracing::info!(%delivery_id, attempts, error, ?delay, "webhook delivery failed; retrying later");
            let retry = JobEnvelope::of(&Retry { delivery_id })?;
            platform.jobs.enqueue_after(&retry, delay).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let a = signature("secret", 1795662000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, signature("secret", 1795662001, b"{}"));
        assert_ne!(a, signature("other", 1795662000, b"{}"));
        assert_ne!(a, signature("secret", 1795662000, b"{ }"));
    }

    #[test]
    fn retries_wait_longer_each_time() {
        let base = Duration::from_secs(30);
        let delays: Vec<u64> = (1..=4).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240]);
    }

    const DEPLOYED: bool = false;
    const LOCAL: bool = true;

    #[test]
    fn deployed_only_https_urls_to_public_hosts_and_locally_only_loopback() {
        assert_eq!(
            acceptable_url("https://hooks.example.com/quiz", DEPLOYED).unwrap().as_str(),
            "https://hooks.example.com/quiz"
        );
        assert!(acceptable_url("http://hooks.example.com/quiz", DEPLOYED).is_err(), "deployed: https only");
        assert!(acceptable_url("https://127.0.0.1:9000/hook", DEPLOYED).is_err());
        assert!(acceptable_url("https://hooks.example.com/quiz", LOCAL).is_err(), "locally: loopback only");
        assert!(acceptable_url("http://127.0.0.1:9000/hook", LOCAL).is_ok());
        assert!(acceptable_url("https://127.0.0.1:9000/hook", LOCAL).is_ok());
        assert!(acceptable_url("http://[::1]:9000/hook", LOCAL).is_ok());
        assert!(acceptable_url("http://localhost/hook", LOCAL).is_ok());
        assert!(acceptable_url("http://LOCALHOST./hook", LOCAL).is_ok());
        assert!(acceptable_url("http://127.1:9000/hook", LOCAL).is_ok(), "127.1 is 127.0.0.1");
        for url in [
            "http://user@127.0.0.1.example.com/",
            "http://localhost.example.com/",
            "http://10.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(acceptable_url(url, LOCAL).is_err(), "{url}");
        }
        assert!(acceptable_url("ftp://example.com", DEPLOYED).is_err());
        assert!(acceptable_url("https://", DEPLOYED).is_err());
        assert!(acceptable_url("hooks.example.com/quiz", DEPLOYED).is_err(), "not absolute");
        assert!(acceptable_url("https://user:pass@hooks.example.com/", DEPLOYED).is_err(), "no credentials in the URL");
        assert!(acceptable_url(&format!("https://e.com/{}", "a".repeat(2000)), DEPLOYED).is_err());
    }

    #[test]
    fn the_url_crate_reads_every_spelling_of_an_ipv4_address_as_the_address() {
        for spelling in ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.0.0.1", "%31%32%37.0.0.1"] {
            let url = Url::parse(&format!("https://{spelling}/hook")).unwrap();
            assert_eq!(url.host(), Some(Host::Ipv4(Ipv4Addr::LOCALHOST)), "{spelling}");
            assert_eq!(url.as_str(), "https://127.0.0.1/hook", "{spelling}");
        }
        // Names are lower-cased, IDNs mapped (full-width letters too), a final dot kept.
        assert_eq!(Url::parse("https://LOCALHOST/").unwrap().host_str(), Some("localhost"));
        assert_eq!(Url::parse("https://ｌｏｃａｌｈｏｓｔ/").unwrap().host_str(), Some("localhost"));
        assert_eq!(Url::parse("https://localhost./").unwrap().host_str(), Some("localhost."));
        assert_eq!(
            Url::parse("https://[::ffff:127.0.0.1]/").unwrap().host(),
            Some(Host::Ipv6("::ffff:127.0.0.1".parse().unwrap()))
        );
    }

    #[test]
    fn deployed_registration_refuses_every_host_that_is_not_public() {
        let refused = [
            // Loopback, however it is written.
            "https://127.0.0.1/",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://127.255.255.254/",
            "https://LOCALHOST/",
            "https://localhost./",
            "https://localhost/",
            "https://api.localhost/",
            "https://ｌｏｃａｌｈｏｓｔ/",
            "https://%6c%6f%63%61%6c%68%6f%73%74/",
            "https://[::1]/",
            "https://[0:0:0:0:0:0:0:1]/",
            // Unspecified, private, shared, link-local (the instance metadata service), protocol assignments.
            "https://0.0.0.0/",
            "https://0/",
            "https://0.1.2.3/",
            "https://10.0.0.1/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://100.127.255.255/",
            "https://169.254.169.254/latest/meta-data/",
            "https://192.0.0.8/",
            // Documentation, benchmarking, the 6to4 relay, multicast, reserved, broadcast.
            "https://192.0.2.1/",
            "https://198.51.100.7/",
            "https://203.0.113.9/",
            "https://198.18.0.1/",
            "https://198.19.255.255/",
            "https://192.88.99.1/",
            "https://224.0.0.1/",
            "https://239.255.255.250/",
            "https://240.0.0.1/",
            "https://255.255.255.255/",
            // IPv6: unspecified, unique-local, link-local, site-local, multicast, documentation, discard-only.
            "https://[::]/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[fe80::1]/",
            "https://[febf::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://[2001:db8::1]/",
            "https://[3fff::1]/",
            "https://[100::1]/",
            // IPv4 inside IPv6: mapped, compatible, NAT64 (well-known and local-use), 6to4, Teredo.
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::127.0.0.1]/",
            "https://[::8.8.8.8]/",
            "https://[64:ff9b::10.0.0.1]/",
            "https://[64:ff9b::127.0.0.1]/",
            "https://[64:ff9b:1::8.8.8.8]/",
            "https://[2002:7f00:1::1]/",
            "https://[2002:c0a8:101::1]/",
            "https://[2002:a9fe:a9fe::]/",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            // Names that are never public.
            "https://intranet/",
            "https://printer.local/",
            "https://db.internal/",
            "https://nas.home.arpa/",
            "https://x.localdomain/",
        ];
        for url in refused {
            let problem = acceptable_url(url, DEPLOYED).expect_err(url);
            assert!(problem.starts_with("must be a public"), "{url}: {problem}");
        }
        let allowed = [
            "https://hooks.example.com/quiz",
            "https://8.8.8.8/",
            "https://1.1.1.1:8443/x",
            "https://172.32.0.1/",
            "https://100.128.0.1/",
            "https://192.0.1.1/",
            "https://198.20.0.1/",
            "https://[2606:4700:4700::1111]/",
            "https://[::ffff:8.8.8.8]/",
            "https://[2002:808:808::1]/",
            "https://[64:ff9b::8.8.8.8]/",
            "https://xn--80ak6aa92e.com/",
        ];
        for url in allowed {
            assert!(acceptable_url(url, DEPLOYED).is_ok(), "{url}: {:?}", acceptable_url(url, DEPLOYED));
        }
    }

    #[test]
    fn the_classification_of_addresses_is_the_documented_one() {
        let public = |s: &str| is_public(s.parse().unwrap());
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.0",
            "192.168.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.0",
            "198.18.0.0",
            "224.0.0.0",
            "255.255.255.255",
        ] {
            assert!(!public(ip), "{ip}");
        }
        for ip in [
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
            "2002:0a00:0001::",
            "2001::1",
            "2001:db8::",
            "ff05::2",
        ] {
            assert!(!public(ip), "{ip}");
        }
        for ip in ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"] {
            assert!(public(ip), "{ip}");
        }
    }

    #[test]
    fn a_delivery_to_a_name_that_resolves_to_loopback_is_refused_deployed_and_allowed_locally() {
        // `localhost` resolves from the hosts file: no query leaves the machine, and nothing connects. The name
        // check of registration is not what refuses it here: the addresses it resolves to are.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let url = Url::parse("https://localhost:9/hook").unwrap();
        match rt.block_on(delivery_addresses(&url, DEPLOYED)) {
            Err(Undeliverable::Address(e)) => assert!(e.contains("not a public address"), "{e}"),
            other => panic!("expected a refused address, got {other:?}"),
        }
        let local = rt.block_on(delivery_addresses(&Url::parse("http://localhost:9/hook").unwrap(), LOCAL)).unwrap();
        assert!(!local.is_empty() && local.iter().all(|a| a.ip().is_loopback() && a.port() == 9), "{local:?}");
        // A literal address is checked as it is, without a lookup.
        for url in ["https://10.0.0.1/", "https://[::ffff:127.0.0.1]/", "https://169.254.169.254/"] {
            let checked = rt.block_on(delivery_addresses(&Url::parse(url).unwrap(), DEPLOYED));
            assert!(matches!(checked, Err(Undeliverable::Address(_))), "{url}: {checked:?}");
        }
        let public = rt.block_on(delivery_addresses(&Url::parse("https://8.8.8.8/").unwrap(), DEPLOYED)).unwrap();
        assert_eq!(public, ["8.8.8.8:443".parse().unwrap()]);
        // Locally, a public address is refused too.
        assert!(rt.block_on(delivery_addresses(&Url::parse("http://8.8.8.8/").unwrap(), LOCAL)).is_err());
    }
}
