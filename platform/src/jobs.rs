//! Jobs: the envelope every queued message carries, and the one way to enqueue it.
//!
//! A job is a versioned JSON envelope: its kind, a unique id (the idempotency key every job function records),
//! the payload, and when it was enqueued. Each kind has its own SQS queue with a dead-letter queue; the URLs
//! come from configuration.
//!
//! A kind and its payload type are tied together by [`Payload`]: a feature's payload type names its kind once,
//! [`JobEnvelope::of`] writes a job from it and [`JobEnvelope::payload`] reads it back only from a job of that
//! kind, so the compiler checks both ends. Domain events delivered to a queue are read the same way, through
//! [`crate::events::Detail`]'s kind.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::QueueUrls;

/// The envelope format this code writes and understands.
pub const ENVELOPE_VERSION: u32 = 1;

/// How many times a job queue delivers a message before its redrive policy moves it to the dead-letter queue:
/// every queue's `maxReceiveCount` in `template.yaml` (a test checks they agree).
pub const MAX_RECEIVE_COUNT: u32 = 3;

/// Every kind of background job. Adding one adds its queue URL to [`QueueUrls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Logs and records what it received: a check of the wiring end to end.
    Debug,
    /// Sends one mail (payload: [`crate::mail::Email`]) through SES v2.
    SendEmail,
    /// Publishes one translation of a task to its Telegram channel.
    PublishTelegram,
    /// Imports a question bank an admin sent the bot as a document, and reports back in the chat.
    ImportTelegramDocument,
    /// Retries one outbound webhook delivery.
    DeliverWebhook,
    /// A domain event an EventBridge rule delivered to a job's queue (see [`crate::events`]); never enqueued
    /// directly.
    Event,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Debug => "debug",
            JobKind::SendEmail => "send-email",
            JobKind::PublishTelegram => "publish-telegram",
            JobKind::ImportTelegramDocument => "import-telegram-document",
            JobKind::DeliverWebhook => "deliver-webhook",
            JobKind::Event => "event",
        }
    }

    fn queue_url(self, urls: &QueueUrls) -> Option<&str> {
        match self {
            JobKind::Debug => Some(&urls.debug),
            JobKind::SendEmail => Some(&urls.mail),
            JobKind::PublishTelegram => Some(&urls.telegram_publish),
            JobKind::ImportTelegramDocument => Some(&urls.telegram_import),
            JobKind::DeliverWebhook => Some(&urls.webhooks),
            JobKind::Event => None,
        }
    }
}

/// The payload type of one kind of job. Implemented once per kind, by the feature that owns the job.
pub trait Payload: Serialize + DeserializeOwned {
    const KIND: JobKind;
}

/// A job's payload could not be read as the type asked for.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Labels as telemetry writes them: `job:<kind>` or `event:<detail-type>`.
    #[error("expected {expected}, got {found}")]
    WrongKind { expected: String, found: String },
    #[error("unreadable payload: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// One queued job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEnvelope {
    pub version: u32,
    pub kind: JobKind,
    pub id: Uuid,
    pub payload: serde_json::Value,
    pub enqueued_at: DateTime<Utc>,
    /// For [`JobKind::Event`]: the event's `detail-type`, e.g. `contact.received`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// Why a message could not be read as a job; such a message is a poison message.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a job envelope: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("unsupported envelope version {0} (this code reads version {ENVELOPE_VERSION})")]
    UnsupportedVersion(u32),
    #[error("an event from source {0:?}, not from this project")]
    ForeignEvent(String),
}

impl JobEnvelope {
    /// A job of the payload's kind, with a new id.
    pub fn of<P: Payload>(payload: &P) -> Result<Self, serde_json::Error> {
        Self::with_id_of(Uuid::new_v4(), payload)
    }

    /// A job with a chosen id: a job that follows from something already identified (a stored message, an
    /// event) derives its id from it, so enqueueing it twice is still one job to every idempotent handler.
    pub fn with_id_of<P: Payload>(id: Uuid, payload: &P) -> Result<Self, serde_json::Error> {
        Ok(Self::raw(P::KIND, id, serde_json::to_value(payload)?))
    }

    /// A job of any kind with any payload, unchecked: what tests and drills send to see how a queue takes
    /// messages no producer of this code writes. Code that enqueues work uses [`JobEnvelope::of`].
    pub fn raw(kind: JobKind, id: Uuid, payload: serde_json::Value) -> Self {
        Self { version: ENVELOPE_VERSION, kind, id, payload, enqueued_at: Utc::now(), event: None }
    }

    /// Reads a queue message: a job envelope, or a domain event as an EventBridge rule delivers it (its detail
    /// becomes the payload, the detail's `id` the job id).
    pub fn parse(body: &str) -> Result<Self, EnvelopeError> {
        let value: serde_json::Value = serde_json::from_str(body)?;
        if value.get("detail-type").is_some() {
            return Self::from_event(value);
        }
        let envelope: Self = serde_json::from_value(value)?;
        if envelope.version != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnsupportedVersion(envelope.version));
        }
        Ok(envelope)
    }

    fn from_event(event: serde_json::Value) -> Result<Self, EnvelopeError> {
        #[derive(Deserialize)]
        struct Event {
            #[serde(rename = "detail-type")]
            detail_type: String,
            source: String,
            detail: serde_json::Value,
        }
        let event: Event = serde_json::from_value(event)?;
        if event.source != crate::events::SOURCE {
            return Err(EnvelopeError::ForeignEvent(event.source));
        }
        let detail: crate::events::Stamp = serde_json::from_value(event.detail.clone())?;
        Ok(Self {
            version: ENVELOPE_VERSION,
            kind: JobKind::Event,
            id: detail.id,
            payload: event.detail,
            enqueued_at: detail.occurred_at,
            event: Some(event.detail_type),
        })
    }

    /// What telemetry calls this job: `job:<kind>`, or `event:<detail-type>`.
    pub fn label(&self) -> String {
        match &self.event {
            Some(detail_type) => format!("event:{detail_type}"),
            None => format!("job:{}", self.kind.as_str()),
        }
    }

    /// The payload as its kind's type; a job of another kind (or an event) is refused.
    pub fn payload<P: Payload>(&self) -> Result<P, PayloadError> {
        if self.kind != P::KIND || self.event.is_some() {
            return Err(PayloadError::WrongKind { expected: format!("job:{}", P::KIND.as_str()), found: self.label() });
        }
        Ok(serde_json::from_value(self.payload.clone())?)
    }

    /// The detail of the domain event a rule delivered, as its kind's type; a job, or an event of another kind,
    /// is refused.
    pub fn event_detail<D: crate::events::Detail>(&self) -> Result<D, PayloadError> {
        if self.event.as_deref() != Some(D::KIND.detail_type()) {
            return Err(PayloadError::WrongKind {
                expected: format!("event:{}", D::KIND.detail_type()),
                found: self.label(),
            });
        }
        Ok(serde_json::from_value(self.payload.clone())?)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not enqueue {kind:?} job: {message}")]
pub struct EnqueueError {
    pub kind: JobKind,
    pub message: String,
}

/// Sends jobs to their queues.
#[derive(Clone)]
pub struct JobQueue {
    sqs: crate::aws::LazyClient<aws_sdk_sqs::Client>,
    urls: QueueUrls,
}

impl JobQueue {
    pub fn new(sdk: &aws_config::SdkConfig, urls: QueueUrls) -> Self {
        Self { sqs: crate::aws::LazyClient::new(sdk), urls }
    }

    /// Sends the job to the queue of its kind; returns the SQS message id.
    pub async fn enqueue(&self, job: &JobEnvelope) -> Result<String, EnqueueError> {
        self.enqueue_after(job, std::time::Duration::ZERO).await
    }

    /// Sends the job to be delivered no sooner than `delay` from now (SQS allows up to 15 minutes): how a job
    /// told to wait (Telegram's `retry_after`) comes back later without using up one of its receives.
    pub async fn enqueue_after(&self, job: &JobEnvelope, delay: std::time::Duration) -> Result<String, EnqueueError> {
        let fail = |message: String| EnqueueError { kind: job.kind, message };
        let queue_url =
            job.kind.queue_url(&self.urls).ok_or_else(|| fail("events are published, not enqueued".into()))?;
        let body = serde_json::to_string(job).map_err(|e| fail(e.to_string()))?;
        let sent = self
            .sqs()
            .send_message()
            .queue_url(queue_url)
            .message_body(body)
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| fail(crate::aws::describe(&e)))?;
        Ok(sent.message_id.unwrap_or_default())
    }

    /// The SQS client, for operations that inspect queues.
    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.get_or_make(aws_sdk_sqs::Client::new)
    }

    pub fn urls(&self) -> &QueueUrls {
        &self.urls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_survives_a_round_trip_through_json() {
        let job = JobEnvelope::raw(JobKind::Debug, Uuid::new_v4(), serde_json::json!({"hello": "world"}));
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.contains(r#""kind":"debug""#), "{text}");
        assert_eq!(JobEnvelope::parse(&text).unwrap(), job);
    }

    #[test]
    fn an_envelope_of_another_version_is_refused() {
        let mut job =
            serde_json::to_value(JobEnvelope::raw(JobKind::Debug, Uuid::new_v4(), serde_json::json!({}))).unwrap();
        job["version"] = 2.into();
        let err = JobEnvelope::parse(&job.to_string()).unwrap_err();
        assert!(matches!(err, EnvelopeError::UnsupportedVersion(2)));
    }

    #[test]
    fn a_domain_event_delivered_by_a_rule_reads_as_a_job_with_the_events_id() {
        let id = Uuid::new_v4();
        let body = serde_json::json!({
            "version": "0", "id": "eventbridge-own-id", "detail-type": "contact.received", "source": "quiz",
            "account": "123456789012", "time": "2026-11-26T08:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"id": id, "occurred_at": "2026-11-26T08:00:00Z"}
        });
        let job = JobEnvelope::parse(&body.to_string()).unwrap();
        assert_eq!((job.kind, job.id), (JobKind::Event, id));
        assert_eq!(job.label(), "event:contact.received");
        assert_eq!(job.payload["id"], id.to_string());
        assert!(matches!(job.payload::<Mailing>(), Err(PayloadError::WrongKind { .. })), "an event is not a job");
        let foreign = body.to_string().replace(r#""source":"quiz""#, r#""source":"aws.s3""#);
        assert!(matches!(JobEnvelope::parse(&foreign), Err(EnvelopeError::ForeignEvent(_))));
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Mailing {
        to: String,
    }
    impl Payload for Mailing {
        const KIND: JobKind = JobKind::SendEmail;
    }
    #[derive(Debug, Serialize, Deserialize)]
    struct Retrying {
        delivery_id: Uuid,
    }
    impl Payload for Retrying {
        const KIND: JobKind = JobKind::DeliverWebhook;
    }

    #[test]
    fn a_payload_is_written_under_its_kind_and_read_back_only_as_that_kind() {
        let job = JobEnvelope::of(&Mailing { to: "ada@example.com".into() }).unwrap();
        assert_eq!(job.kind, JobKind::SendEmail);
        assert_eq!(job.payload::<Mailing>().unwrap(), Mailing { to: "ada@example.com".into() });
        let wrong = job.payload::<Retrying>().unwrap_err();
        assert_eq!(wrong.to_string(), "expected job:deliver-webhook, got job:send-email");
        let garbled = JobEnvelope::raw(JobKind::SendEmail, Uuid::new_v4(), serde_json::json!({"to": 7}));
        assert!(matches!(garbled.payload::<Mailing>(), Err(PayloadError::Malformed(_))));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert!(matches!(JobEnvelope::parse("not json"), Err(EnvelopeError::Malformed(_))));
        assert!(matches!(JobEnvelope::parse(r#"{"kind":"nope"}"#), Err(EnvelopeError::Malformed(_))));
    }
}
