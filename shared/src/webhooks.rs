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

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use http::header::CONTENT_TYPE;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::db::Connection;
use crate::events::{DomainEvent, EventKind};
use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::identity::Viewer;
use crate::jobs::{JobEnvelope, JobKind};
use crate::platform::Platform;
use crate::trigger::{JobError, JobFuture};

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

/// Whether a URL may receive deliveries. Deployed (`loopback_only` false): HTTPS to anything but a loopback
/// address. Locally and in CI (`WEBHOOK_LOOPBACK_ONLY=true`): a loopback address only, so no run of the tests or of
/// the API fuzzing can send a delivery off the machine.
pub fn acceptable_url(url: &str, loopback_only: bool) -> Result<(), &'static str> {
    if url.len() > 2000 {
        return Err("must be at most 2000 characters");
    }
    let Some((scheme, rest)) = url.split_once("://") else { return Err("must be an absolute URL") };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostname = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    if hostname.is_empty() {
        return Err("must name a host");
    }
    let loopback = hostname == "localhost" || hostname.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match (scheme, loopback, loopback_only) {
        ("http" | "https", true, true) => Ok(()),
        (_, false, true) => Err("must be a loopback address here (WEBHOOK_LOOPBACK_ONLY)"),
        ("https", false, false) => Ok(()),
        (_, true, false) => Err("must not be a loopback address"),
        _ => Err("must be an https URL"),
    }
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
    let url = url.trim().to_string();
    acceptable_url(&url, platform.config.webhooks.loopback_only).map_err(|problem| {
        ApiError::bad_request("validation_failed", format!("`url` {problem}")).with_field("url", problem)
    })?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(ApiError::internal)?;
    let secret = hex::encode(secret);
    let conn = platform.db.connection().await?;
    let active: i64 = conn.query_one("SELECT count(*) FROM outbound_webhooks WHERE active", &[]).await?.get(0);
    if active >= MAX_WEBHOOKS {
        return Err(ApiError::unprocessable("too_many_webhooks", format!("at most {MAX_WEBHOOKS} webhooks may be active; remove one first")));
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
    let webhook = Webhook { id, url, active: true, created_at: row.get(0), secret: Some(secret), deliveries: None };
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
                                       'failed', count(*) FILTER (WHERE d.state = 'failed'))
               FROM outbound_webhooks w LEFT JOIN webhook_deliveries d ON d.webhook_id = w.id
              GROUP BY w.id ORDER BY w.created_at DESC LIMIT 100",
            &[],
        )
        .await?;
    let webhooks: Vec<Webhook> = rows
        .iter()
        .map(|r| Webhook { id: r.get(0), url: r.get(1), active: r.get(2), created_at: r.get(3), secret: None, deliveries: Some(r.get(4)) })
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
/// announced on the caller's connection (the instance has one).
pub async fn announce(platform: &Platform, conn: &Connection<'_>, publication_id: Uuid, data: serde_json::Value) -> Result<(), JobError> {
    platform
        .events
        .publish(&DomainEvent::new(EventKind::QuizPublished, publication_id, data))
        .await
        .map_err(|e| JobError::new(e.to_string()))?;
    conn.execute("UPDATE telegram_publications SET event_published_at = now() WHERE id = $1", &[&publication_id]).await?;
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct Retry {
    delivery_id: Uuid,
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
    let payload = serde_json::json!({ "type": QUIZ_PUBLISHED, "id": job.id, "occurred_at": job.enqueued_at, "data": job.payload });
    let conn = platform.db.connection().await?;
    let webhooks: Vec<Uuid> = conn.query("SELECT id FROM outbound_webhooks WHERE active", &[]).await?.iter().map(|r| r.get(0)).collect();
    let ids: Vec<Uuid> = webhooks.iter().map(|webhook| Uuid::new_v5(&job.id, webhook.as_bytes())).collect();
    let rows = conn
        .query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload)
             SELECT d, w, $3, $4, $5 FROM unnest($1::uuid[], $2::uuid[]) AS t(d, w)
             ON CONFLICT (id) DO NOTHING RETURNING id",
            &[&ids, &webhooks, &job.id, &QUIZ_PUBLISHED, &payload],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// POSTs one pending delivery; on failure, records it and schedules the next attempt, or gives up.
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
    drop(conn);
    let (url, secret, payload, attempts, event_type): (String, String, serde_json::Value, i32, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let body = serde_json::to_vec(&payload)?;
    let timestamp = Utc::now().timestamp();
    let outcome = match Request::post(&url)
        .header(CONTENT_TYPE, "application/json")
        .header("x-quiz-event", &event_type)
        .header("x-quiz-delivery", delivery_id.to_string())
        .header("x-quiz-timestamp", timestamp.to_string())
        .header("x-quiz-signature", signature(&secret, timestamp, &body))
        .header("user-agent", "quiz-webhooks/1")
        .body(Full::new(Bytes::from(body)))
    {
        Ok(request) => platform.webhook_client().exchange(request, 64 * 1024).await.map(|a| a.status),
        Err(e) => Err(format!("the URL cannot be requested: {e}")),
    };
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
            let (status, error) = match outcome {
                Ok(status) => (Some(i32::from(status.as_u16())), format!("answered HTTP {status}")),
                Err(e) => (None, e),
            };
            let last = attempts >= MAX_ATTEMPTS;
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
            let retry = JobEnvelope::new(JobKind::DeliverWebhook, serde_json::to_value(Retry { delivery_id })?);
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

    #[test]
    fn deployed_only_https_urls_elsewhere_and_locally_only_loopback() {
        assert!(acceptable_url("https://hooks.example.com/quiz", false).is_ok());
        assert!(acceptable_url("http://hooks.example.com/quiz", false).is_err());
        assert!(acceptable_url("https://127.0.0.1:9000/hook", false).is_err());
        assert!(acceptable_url("https://hooks.example.com/quiz", true).is_err());
        assert!(acceptable_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(acceptable_url("http://[::1]:9000/hook", true).is_ok());
        assert!(acceptable_url("http://localhost/hook", true).is_ok());
        assert!(acceptable_url("http://user@127.0.0.1.example.com/", true).is_err());
        assert!(acceptable_url("ftp://example.com", false).is_err());
        assert!(acceptable_url("https://", false).is_err());
        assert!(acceptable_url(&format!("https://e.com/{}", "a".repeat(2000)), false).is_err());
    }
}
