//! Jobs: the envelope every queued message carries, and the one way to enqueue it.
//!
//! A job is a versioned JSON envelope: its kind, a unique id (the idempotency key every job function records),
//! the payload, and when it was enqueued. Each kind has its own SQS queue with a dead-letter queue; the URLs
//! come from configuration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::QueueUrls;

/// The envelope format this code writes and understands.
pub const ENVELOPE_VERSION: u32 = 1;

/// Every kind of background job. Adding one adds its queue URL to [`QueueUrls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Logs and records what it received: a check of the wiring end to end.
    Debug,
    /// Sends one mail (payload: [`crate::mail::Email`]) through SES v2.
    SendMail,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Debug => "debug",
            JobKind::SendMail => "send-mail",
        }
    }

    fn queue_url(self, urls: &QueueUrls) -> &str {
        match self {
            JobKind::Debug => &urls.debug,
            JobKind::SendMail => &urls.mail,
        }
    }
}

/// One queued job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEnvelope {
    pub version: u32,
    pub kind: JobKind,
    pub id: Uuid,
    pub payload: serde_json::Value,
    pub enqueued_at: DateTime<Utc>,
}

/// Why a message could not be read as a job; such a message is a poison message.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a job envelope: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("unsupported envelope version {0} (this code reads version {ENVELOPE_VERSION})")]
    UnsupportedVersion(u32),
}

impl JobEnvelope {
    pub fn new(kind: JobKind, payload: serde_json::Value) -> Self {
        Self { version: ENVELOPE_VERSION, kind, id: Uuid::new_v4(), payload, enqueued_at: Utc::now() }
    }

    pub fn parse(body: &str) -> Result<Self, EnvelopeError> {
        let envelope: Self = serde_json::from_str(body)?;
        if envelope.version != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnsupportedVersion(envelope.version));
        }
        Ok(envelope)
    }

    /// The payload as the job's own type.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.payload.clone())
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
    sqs: aws_sdk_sqs::Client,
    urls: QueueUrls,
}

impl JobQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, urls: QueueUrls) -> Self {
        Self { sqs, urls }
    }

    /// Sends the job to the queue of its kind; returns the SQS message id.
    pub async fn enqueue(&self, job: &JobEnvelope) -> Result<String, EnqueueError> {
        let fail = |message: String| EnqueueError { kind: job.kind, message };
        let body = serde_json::to_string(job).map_err(|e| fail(e.to_string()))?;
        let sent = self
            .sqs
            .send_message()
            .queue_url(job.kind.queue_url(&self.urls))
            .message_body(body)
            .send()
            .await
            .map_err(|e| fail(crate::aws::describe(&e)))?;
        Ok(sent.message_id.unwrap_or_default())
    }

    /// The SQS client, for operations that inspect queues.
    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
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
        let job = JobEnvelope::new(JobKind::Debug, serde_json::json!({"hello": "world"}));
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.contains(r#""kind":"debug""#), "{text}");
        assert_eq!(JobEnvelope::parse(&text).unwrap(), job);
    }

    #[test]
    fn an_envelope_of_another_version_is_refused() {
        let mut job = serde_json::to_value(JobEnvelope::new(JobKind::Debug, serde_json::json!({}))).unwrap();
        job["version"] = 2.into();
        let err = JobEnvelope::parse(&job.to_string()).unwrap_err();
        assert!(matches!(err, EnvelopeError::UnsupportedVersion(2)));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert!(matches!(JobEnvelope::parse("not json"), Err(EnvelopeError::Malformed(_))));
        assert!(matches!(JobEnvelope::parse(r#"{"kind":"nope"}"#), Err(EnvelopeError::Malformed(_))));
    }
}
