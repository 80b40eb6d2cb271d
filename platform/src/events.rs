//! Domain events: what happened, published to the EventBridge bus. Routes name events, never jobs: rules in
//! `template.yaml` send each event to the queues of the jobs that care, so adding a job that listens changes the
//! template only.
//!
//! Every event's detail carries its own `id`. A job delivered an event uses that id as its idempotency key, so
//! publishing the same event twice (a retried request, the sweep that re-publishes what never left) has the
//! effect of publishing it once.

use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aws::describe;

/// The `source` of every event this project publishes; rules match on it.
pub const SOURCE: &str = "quiz";

/// Every kind of domain event. The name is the event's `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A contact message was stored (detail: `{ "id": <contact message id> }`).
    ContactReceived,
    /// A client finished uploading an original (detail: `{ "id": <upload id> }`).
    UploadCompleted,
    /// A post was published, or a published post's title or category changed (detail: `{ "id": <event id>,
    /// "post_id": <post id> }`): its Open Graph image is due.
    PostPublished,
    /// A translation of a task went out to its Telegram channel (detail: `{ "id": <publication id>, "task_id",
    /// "language", "chat_id", "poll_id", "published_at" }`): outbound webhooks announce it.
    QuizPublished,
}

impl EventKind {
    pub fn detail_type(self) -> &'static str {
        match self {
            EventKind::ContactReceived => "contact.received",
            EventKind::UploadCompleted => "upload.completed",
            EventKind::PostPublished => "post.published",
            EventKind::QuizPublished => "quiz.published",
        }
    }
}

/// The detail type of one kind of event: what its listeners read. Implemented once per kind, by the feature
/// that publishes it; [`DomainEvent::of`] writes it and [`crate::jobs::JobEnvelope::event_detail`] reads it back
/// only from an event of that kind.
pub trait Detail: Serialize + DeserializeOwned {
    const KIND: EventKind;
}

/// One event: its kind, the id that makes it idempotent, and what the listeners need to know.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub kind: EventKind,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// What the detail of every event carries besides its own fields: the id first, and when it happened. Written
/// here, read by [`crate::jobs::JobEnvelope::parse`] when a rule delivers the event to a job's queue.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub data: serde_json::Value,
}

impl DomainEvent {
    /// An event of the detail's kind, happening now.
    pub fn of<D: Detail>(id: Uuid, detail: &D) -> Result<Self, serde_json::Error> {
        Ok(Self { kind: D::KIND, id, occurred_at: Utc::now(), data: serde_json::to_value(detail)? })
    }

    fn detail(&self) -> String {
        let data = if self.data.is_object() { self.data.clone() } else { serde_json::json!({ "data": self.data }) };
        serde_json::to_string(&Stamp { id: self.id, occurred_at: self.occurred_at, data })
            .unwrap_or_else(|_| "{}".into())
    }
}

/// What one pass of re-publishing stored events did (see [`crate::republish`]).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Republished {
    pub published: u64,
    pub failed: u64,
}

impl Republished {
    /// Counts one attempt to publish a stored fact's event; a failure is logged, and the fact waits for the
    /// next sweep.
    pub fn record<E: std::fmt::Display>(&mut self, what: &str, id: impl std::fmt::Display, attempt: Result<(), E>) {
        match attempt {
            Ok(()) => self.published += 1,
            Err(e) => {
                tracing::warn!(%id, error = %e, "still cannot publish the event of a {what}");
                self.failed += 1;
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not publish {detail_type} event {id}: {message}")]
pub struct PublishError {
    pub detail_type: &'static str,
    pub id: Uuid,
    pub message: String,
}

/// Publishes events to the project's bus.
#[derive(Clone)]
pub struct EventBus {
    client: crate::aws::LazyClient<aws_sdk_eventbridge::Client>,
    bus_name: String,
}

impl EventBus {
    /// Routes publish while a client waits, and an event that cannot leave now is stored and re-published by
    /// the sweep (`republish-events`), so publishing gives up sooner than other AWS calls: one second per
    /// attempt, two in all.
    pub fn new(sdk: &aws_config::SdkConfig, bus_name: impl Into<String>) -> Self {
        Self { client: crate::aws::LazyClient::new(sdk), bus_name: bus_name.into() }
    }

    fn client(&self) -> &aws_sdk_eventbridge::Client {
        self.client.get_or_make(|sdk| {
            let timeouts = aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(2))
                .build();
            let config = aws_sdk_eventbridge::config::Builder::from(sdk).timeout_config(timeouts).build();
            aws_sdk_eventbridge::Client::from_conf(config)
        })
    }

    /// Publishes one event. An entry EventBridge refuses is an error too, not only a failed call.
    pub async fn publish(&self, event: &DomainEvent) -> Result<(), PublishError> {
        let fail = |message: String| PublishError { detail_type: event.kind.detail_type(), id: event.id, message };
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(SOURCE)
            .detail_type(event.kind.detail_type())
            .detail(event.detail())
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(event.occurred_at.timestamp()))
            .build();
        let output = self.client().put_events().entries(entry).send().await.map_err(|e| fail(describe(&e)))?;
        if output.failed_entry_count() > 0 {
            let reason = output.entries().iter().find_map(|e| e.error_message()).unwrap_or("refused").to_string();
            return Err(fail(reason));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Greeted {
        name: String,
    }
    impl Detail for Greeted {
        const KIND: EventKind = EventKind::ContactReceived;
    }

    #[test]
    fn the_detail_carries_the_id_and_the_events_fields() {
        let id = Uuid::new_v4();
        let event = DomainEvent::of(id, &Greeted { name: "Ada".into() }).unwrap();
        assert_eq!(event.kind, EventKind::ContactReceived);
        let detail: serde_json::Value = serde_json::from_str(&event.detail()).unwrap();
        assert_eq!(detail["id"], id.to_string());
        assert_eq!(detail["name"], "Ada");
        assert!(detail["occurred_at"].is_string());
    }
}
