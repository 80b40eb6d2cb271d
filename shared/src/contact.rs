//! The contact form (DOMAIN §5): a visitor's message is stored first, then the `contact.received` event tells
//! the jobs that care (today: mailing the site's admins). The visitor's answer never waits for mail.
//!
//! Nothing is lost when the event bus cannot be reached: the message is already stored, the answer is still
//! 202, and the `republish-events` schedule publishes every stored message whose event never left.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::identity::{EmailAddress, limits};
use platform::Platform;
use platform::db::{Connection, DbError};
use platform::events::{self, DomainEvent, EventKind, Republished};
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::jobs::JobEnvelope;
use platform::mail::Email;
use platform::trigger::{JobError, JobFuture};

const NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=100;
const MESSAGE_CHARS: std::ops::RangeInclusive<usize> = 10..=5000;
/// Messages per client address per hour.
const PER_CLIENT_PER_HOUR: u64 = 5;
const SWEEP_BATCH: i64 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    message: String,
}

/// A form that passed every check.
struct ValidForm {
    name: String,
    email: EmailAddress,
    message: String,
}

fn validate(form: ContactForm) -> Result<ValidForm, ApiError> {
    let mut problems = BTreeMap::new();
    let name = form.name.trim().to_string();
    if !NAME_CHARS.contains(&name.chars().count()) {
        problems.insert("name".into(), format!("must be {} to {} characters", NAME_CHARS.start(), NAME_CHARS.end()));
    }
    let email = EmailAddress::parse(&form.email);
    if email.is_none() {
        problems.insert("email".into(), "is not a valid e-mail address".into());
    }
    let message = form.message.trim().to_string();
    if !MESSAGE_CHARS.contains(&message.chars().count()) {
        problems.insert(
            "message".into(),
            format!("must be {} to {} characters", MESSAGE_CHARS.start(), MESSAGE_CHARS.end()),
        );
    }
    match email {
        Some(email) if problems.is_empty() => Ok(ValidForm { name, email, message }),
        _ => Err(ApiError::validation(problems)),
    }
}

/// The limit's key for a client: a keyed hash of its address (see [`limits::client_digest`]), so no address is
/// stored or cached, nor one that can be found again by trying every address.
fn client_hash(platform: &Platform, request: &ApiRequest) -> String {
    hex::encode(limits::client_digest(
        &platform.config.identity.client_hash_key,
        "contact",
        limits::client_address(request),
    ))
}

/// `POST /api/v1/contact`: validates, limits per client address, stores, publishes `contact.received`, 202.
pub async fn submit(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let form = validate(request.json()?)?;
    let client = client_hash(platform, &request);
    if !platform.cache.within_limit(&format!("contact:{client}"), PER_CLIENT_PER_HOUR, Duration::from_secs(3600)).await
    {
        return Err(ApiError::rate_limited(3600));
    }
    let id = Uuid::new_v4();
    let conn = platform.db.connection().await?;
    conn.execute(
        "INSERT INTO contact_messages (id, name, email, message, client_hash) VALUES ($1, $2, $3, $4, $5)",
        &[&id, &form.name, &form.email.as_str(), &form.message, &client],
    )
    .await?;
    let published = publish(platform, &conn, id, Utc::now()).await;
    if let Err(e) = &published {
        tracing::warn!(%id, error = %e, "contact message stored; its event waits for the sweep");
    }
    Ok(ApiResponse::json(StatusCode::ACCEPTED, &serde_json::json!({ "id": id, "status": "received" })))
}

/// The `contact.received` event: a message was stored; the event's id is the message's, which is all its
/// listener needs.
#[derive(Debug, Serialize, Deserialize)]
pub struct ContactReceived {}

impl events::Detail for ContactReceived {
    const KIND: EventKind = EventKind::ContactReceived;
}

/// Publishes `contact.received` for a stored message and records that it left, on the caller's connection.
async fn publish(platform: &Platform, conn: &Connection, id: Uuid, created_at: DateTime<Utc>) -> Result<(), String> {
    let mut event = DomainEvent::of(id, &ContactReceived {}).map_err(|e| e.to_string())?;
    event.occurred_at = created_at;
    platform.events.publish(&event).await.map_err(|e| e.to_string())?;
    conn.execute("UPDATE contact_messages SET published_at = now() WHERE id = $1 AND published_at IS NULL", &[&id])
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Publishes the events of stored messages whose event never left (older than `grace`, oldest first).
pub async fn sweep(platform: &Platform, grace: Duration) -> Result<Republished, DbError> {
    let conn = platform.db.connection().await?;
    let rows = conn
        .query(
            "SELECT id, created_at FROM contact_messages
              WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1)
              ORDER BY created_at LIMIT $2",
            &[&grace.as_secs_f64(), &SWEEP_BATCH],
        )
        .await?;
    let mut swept = Republished::default();
    for row in rows {
        let id: Uuid = row.get("id");
        swept.record("contact message", id, publish(platform, &conn, id, row.get("created_at")).await);
    }
    Ok(swept)
}

/// What the contact-form mail job did with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// A `send-email` job (this id) was enqueued for the admins.
    MailEnqueued(Uuid),
    /// The message no longer exists: nothing to tell.
    Gone,
}

/// The `send-contact-form-email` job: loads the stored message and enqueues one mail to the admins. The mail
/// job's id is derived from the message's, so a second delivery of the event enqueues the same mail, which the
/// mail job sends once.
pub async fn notify_admins(platform: &Platform, job: &JobEnvelope) -> Result<Notified, JobError> {
    let ContactReceived {} = job.event_detail()?;
    let conn = platform.db.connection().await?;
    let Some(row) = conn
        .query_opt("SELECT name, email, message, created_at FROM contact_messages WHERE id = $1", &[&job.id])
        .await?
    else {
        return Ok(Notified::Gone);
    };
    if platform.config.admin_emails.is_empty() {
        return Err(JobError::new("ADMIN_EMAILS is empty: nobody to send the contact message to"));
    }
    let (name, email, message, created_at): (String, String, String, DateTime<Utc>) =
        (row.get("name"), row.get("email"), row.get("message"), row.get("created_at"));
    let mail = Email {
        to: platform.config.admin_emails.clone(),
        subject: format!("Contact form: {name}"),
        text: format!("{name} <{email}> wrote on {}:\n\n{message}\n", created_at.format("%Y-%m-%d %H:%M UTC")),
        html: None,
        reply_to: Some(email),
    };
    let mail_id = Uuid::new_v5(&job.id, b"send-contact-form-email");
    platform.jobs.enqueue(&JobEnvelope::with_id_of(mail_id, &mail)?).await?;
    conn.execute(
        "UPDATE contact_messages SET mail_enqueued_at = coalesce(mail_enqueued_at, now()) WHERE id = $1",
        &[&job.id],
    )
    .await?;
    Ok(Notified::MailEnqueued(mail_id))
}

/// The `send-contact-form-email` function's job handler.
pub fn notify_job(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let notified = notify_admins(platform, &job).await?;
        tracing::info!(job_id = %job.id, ?notified, "contact message handled");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, message: &str) -> ContactForm {
        ContactForm { name: name.into(), email: email.into(), message: message.into() }
    }

    #[test]
    fn a_good_form_is_trimmed_and_accepted() {
        let valid = validate(form("  Ada ", "ada@example.com", "  Hello there, a question.  ")).ok().unwrap();
        assert_eq!((valid.name.as_str(), valid.message.as_str()), ("Ada", "Hello there, a question."));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let err = validate(form(" ", "not-an-address", "short")).err().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&err.to_response().body).unwrap();
        let fields = &body["error"]["fields"];
        assert!(fields["name"].is_string() && fields["email"].is_string() && fields["message"].is_string(), "{body}");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(validate(form(&"я".repeat(100), "a@b.co", &"ж".repeat(10))).is_ok());
        assert!(validate(form(&"я".repeat(101), "a@b.co", &"ж".repeat(10))).is_err());
    }
}
