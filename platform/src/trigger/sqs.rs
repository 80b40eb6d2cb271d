//! An SQS batch to a per-message job handler, with partial batch failures.
//!
//! Each message is parsed as a [`JobEnvelope`] and handled in its own telemetry scope. The batch response lists
//! exactly the messages that failed (`ReportBatchItemFailures`), so the queue deletes the rest and only the
//! failed ones come back, to reach the dead-letter queue after `maxReceiveCount`. A message that is not an
//! envelope is a poison message: it fails every time and so ends in the dead-letter queue, where it can be read.

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::Platform;
use crate::jobs::{JobEnvelope, MAX_RECEIVE_COUNT};
use crate::telemetry::{self, Class, Trigger};

use super::{Attempt, BoxError, JobError, JobFuture, MalformedEvent};

/// A job function's whole `main`: starts the instance and serves `handler` until the runtime stops.
pub fn run(
    function_name: &'static str,
    handler: fn(&'static Platform, JobEnvelope) -> JobFuture,
) -> Result<(), BoxError> {
    super::run_instance(function_name, |platform| Box::pin(serve(platform, handler)))
}

/// Serves a job handler until the runtime stops.
pub async fn serve(
    platform: &'static Platform,
    handler: fn(&'static Platform, JobEnvelope) -> JobFuture,
) -> Result<(), BoxError> {
    // Boxed: the nested future types are otherwise too deep for the compiler's layout computation.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        Box::pin(async move {
            if let Some(answer) = super::ping_answer(&event.payload, &event.context.env_config.version) {
                return Ok(answer);
            }
            let response = process_batch(event.payload, |job| handler(platform, job)).await?;
            Ok::<_, BoxError>(serde_json::to_value(response)?)
        })
    }))
    .await
}

/// Handles every message of one batch and reports the failed ones.
pub async fn process_batch<F, Fut>(event: serde_json::Value, handler: F) -> Result<SqsBatchResponse, MalformedEvent>
where
    F: Fn(JobEnvelope) -> Fut,
    Fut: Future<Output = Result<(), JobError>>,
{
    let batch: SqsEvent =
        serde_json::from_value(event).map_err(|e| MalformedEvent { expected: "SQS", reason: e.to_string() })?;
    let mut response = SqsBatchResponse::default();
    for message in batch.records {
        let Some(message_id) = message.message_id.clone() else {
            tracing::error!("an SQS record without a message id cannot be reported; skipping it");
            continue;
        };
        let receive_count: u32 =
            message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1);
        // The queue's redrive policy moves a message that fails its last receive to the dead-letter queue.
        let on_failure = if receive_count >= MAX_RECEIVE_COUNT { Class::DeadLettered } else { Class::Retried };
        let body = message.body.as_deref().unwrap_or_default();
        let (attempt, _) = match JobEnvelope::parse(body) {
            Ok(job) => {
                telemetry::scope(Trigger::Sqs, &job.label(), &message_id, async {
                    tracing::info!(job_id = %job.id, receive_count, "job received");
                    Attempt { result: handler(job).await, on_failure }
                })
                .await
            }
            Err(e) => {
                telemetry::scope(Trigger::Sqs, "job:poison", &message_id, async {
                    tracing::error!(error = %e, receive_count, "poison message: not a job envelope");
                    Attempt { result: Err::<(), _>(JobError(e.to_string())), on_failure }
                })
                .await
            }
        };
        if let Err(e) = attempt.result {
            tracing::warn!(message_id, error = %e, "job failed; the queue will deliver it again");
            response.add_failure(message_id);
        }
    }
    Ok(response)
}

/// The SQS event Lambda's event source mapping hands a function for these received messages (used by the local
/// cloud, which plays that part, and by tests).
pub fn lambda_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> serde_json::Value {
    let region = queue_arn.split(':').nth(3).unwrap_or("us-east-1");
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, serde_json::Value> = m
                .attributes()
                .map(|a| {
                    a.iter().map(|(k, v)| (k.as_str().to_string(), serde_json::Value::String(v.clone()))).collect()
                })
                .unwrap_or_default();
            serde_json::json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobKind;

    fn record(id: &str, body: &str) -> serde_json::Value {
        serde_json::json!({
            "messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:quiz-debug", "awsRegion": "us-east-1"
        })
    }

    fn job(payload: serde_json::Value) -> String {
        serde_json::to_string(&JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), payload)).unwrap()
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }

    #[tokio::test]
    async fn a_batch_with_one_failing_message_reports_exactly_that_message() {
        let event = serde_json::json!({"Records": [
            record("m1", &job(serde_json::json!({"n": 1}))),
            record("m2", &job(serde_json::json!({"n": 2, "fail": true}))),
            record("m3", &job(serde_json::json!({"n": 3}))),
        ]});
        let handled = std::sync::Mutex::new(Vec::new());
        let response = process_batch(event, |job| {
            let n = job.payload["n"].as_i64().unwrap();
            handled.lock().unwrap().push(n);
            async move { if job.payload.get("fail").is_some() { Err(JobError::new("asked to fail")) } else { Ok(()) } }
        })
        .await
        .unwrap();
        assert_eq!(failed_ids(&response), ["m2"]);
        assert_eq!(*handled.lock().unwrap(), [1, 2, 3], "a failure does not stop its neighbours");
    }

    #[tokio::test]
    async fn a_message_that_is_not_an_envelope_is_reported_as_failed() {
        let event =
            serde_json::json!({"Records": [record("ok", &job(serde_json::json!({}))), record("poison", "{not json")]});
        let response = process_batch(event, |_| async { Ok(()) }).await.unwrap();
        assert_eq!(failed_ids(&response), ["poison"]);
    }

    #[tokio::test]
    async fn an_event_that_is_not_an_sqs_batch_is_an_error_not_a_panic() {
        for bad in [serde_json::json!("hello"), serde_json::json!({"Records": "nope"}), serde_json::json!([1, 2])] {
            let err = process_batch(bad, |_| async { Ok(()) }).await.unwrap_err();
            assert_eq!(err.expected, "SQS");
        }
    }

    #[tokio::test]
    async fn an_empty_batch_reports_nothing() {
        let response = process_batch(serde_json::json!({"Records": []}), |_| async { Ok(()) }).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
}
