//! An EventBridge scheduled event to a scheduled-job handler.
//!
//! The handler gets the time the schedule fired and the event's `detail` (empty for a plain schedule; the local
//! cloud and operators may pass options there, such as a dry run), and returns a JSON report, which becomes the
//! invocation's result.

use std::future::Future;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::Platform;
use crate::telemetry::{self, Class, Trigger};

use super::{Attempt, BoxError, JobError, MalformedEvent, ReportFuture};

/// One firing of a schedule.
#[derive(Debug, Clone)]
pub struct ScheduledRun {
    pub time: DateTime<Utc>,
    /// The rule that fired, when the event names it.
    pub rule: Option<String>,
    pub detail: serde_json::Value,
}

/// A scheduled function's whole `main`: starts the instance and serves `handler` until the runtime stops.
pub fn run(
    function_name: &'static str,
    handler: fn(&'static Platform, ScheduledRun) -> ReportFuture,
) -> Result<(), BoxError> {
    super::run_instance(function_name, |platform| Box::pin(serve(platform, function_name, handler)))
}

/// Serves a scheduled-job handler until the runtime stops. `job` names it in log lines.
pub async fn serve(
    platform: &'static Platform,
    job: &'static str,
    handler: fn(&'static Platform, ScheduledRun) -> ReportFuture,
) -> Result<(), BoxError> {
    // Boxed: the nested future types are otherwise too deep for the compiler's layout computation.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        Box::pin(async move {
            if let Some(answer) = super::ping_answer(&event.payload, &event.context.env_config.version) {
                return Ok(answer);
            }
            let request_id = event.context.request_id.clone();
            run_once(job, &request_id, event.payload, |run| handler(platform, run)).await
        })
    }))
    .await
}

/// Parses the event and runs the handler once in a telemetry scope.
pub async fn run_once<F, Fut>(
    job: &str,
    request_id: &str,
    event: serde_json::Value,
    handler: F,
) -> Result<serde_json::Value, BoxError>
where
    F: FnOnce(ScheduledRun) -> Fut,
    Fut: Future<Output = Result<serde_json::Value, JobError>>,
{
    let event: EventBridgeEvent<serde_json::Value> = serde_json::from_value(event)
        .map_err(|e| MalformedEvent { expected: "EventBridge scheduled", reason: e.to_string() })?;
    let run = ScheduledRun {
        time: event.time.unwrap_or_else(Utc::now),
        rule: event.resources.and_then(|r| r.into_iter().next()),
        detail: event.detail,
    };
    // A failed run is retried by Lambda (an asynchronous invocation gets two more tries).
    let (attempt, _) = telemetry::scope(Trigger::Schedule, &format!("schedule:{job}"), request_id, async {
        let result = handler(run).await;
        if let Ok(report) = &result {
            tracing::info!(report = %report, "scheduled job finished");
        }
        Attempt { result, on_failure: Class::Retried }
    })
    .await;
    Ok(attempt.result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheduled_event() -> serde_json::Value {
        serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-26T03:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/clear-expired-sessions"], "detail": {}
        })
    }

    #[tokio::test]
    async fn a_scheduled_event_reaches_the_handler_with_its_time_and_rule() {
        let report = run_once("test", "r1", scheduled_event(), |run| async move {
            Ok(serde_json::json!({"time": run.time.to_rfc3339(), "rule": run.rule}))
        })
        .await
        .unwrap();
        assert_eq!(report["time"], "2026-11-26T03:00:00+00:00");
        assert!(report["rule"].as_str().unwrap().ends_with("rule/clear-expired-sessions"));
    }

    #[tokio::test]
    async fn a_malformed_event_is_an_error_not_a_panic() {
        let err = run_once("test", "r1", serde_json::json!({"hello": 1}), |_| async { Ok(serde_json::json!({})) })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("malformed EventBridge scheduled event"), "{err}");
    }

    #[tokio::test]
    async fn a_failing_handler_fails_the_invocation() {
        let err = run_once("test", "r1", scheduled_event(), |_| async { Err(JobError::new("database down")) })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "database down");
    }
}
