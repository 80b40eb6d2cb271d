//! Trigger adapters: the only code that knows what API Gateway, SQS, EventBridge or a direct invocation look
//! like. Each turns its envelope into the typed input of an ordinary async handler, runs the handler inside a
//! telemetry scope, and turns the result back into what Lambda expects.

pub mod http;
pub mod invoke;
pub mod schedule;
pub mod sqs;

use crate::Platform;
use crate::telemetry::{Class, Outcome};

/// A job or scheduled run that did not complete. The queue retries it (and dead-letters it after
/// `maxReceiveCount`); a schedule reports it as the invocation's error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

impl JobError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

macro_rules! job_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for JobError {
            fn from(e: $t) -> Self {
                JobError(e.to_string())
            }
        }
    )*};
}
job_error_from!(
    crate::db::DbError,
    crate::jobs::EnqueueError,
    crate::jobs::PayloadError,
    crate::storage::StorageError,
    crate::mail::MailError,
    crate::bot::BotError,
    serde_json::Error
);

/// The event handed to an adapter is not of the kind it serves: a wiring mistake, reported as the invocation's
/// error rather than a panic.
#[derive(Debug, thiserror::Error)]
#[error("malformed {expected} event: {reason}")]
pub struct MalformedEvent {
    pub expected: &'static str,
    pub reason: String,
}

/// The answer to `{"ping": {}}`, the no-op invocation `queue-inspect ping` sends every job function (the
/// earlier `celery inspect ping`): which function and version answered, and whether its instance was cold. Any
/// other event is `None`, and goes to the handler. `function_version` is the runtime's (`$LATEST` or a number).
pub fn ping_answer(event: &serde_json::Value, function_version: &str) -> Option<serde_json::Value> {
    event.as_object().filter(|o| o.len() == 1 && o.contains_key("ping"))?;
    let cold = crate::telemetry::take_cold();
    tracing::info!(cold, "ping");
    Some(serde_json::json!({
        "pong": true,
        "function": crate::telemetry::function_name(),
        "version": env!("CARGO_PKG_VERSION"),
        "function_version": function_version,
        "cold": cold,
        "instance_uptime_seconds": crate::telemetry::uptime().as_secs(),
    }))
}

/// A plain result, as a direct invocation's: done, or failed for its caller.
impl<T> Outcome for Result<T, JobError> {
    fn status(&self) -> String {
        if self.is_ok() { "done".into() } else { "failed".into() }
    }
    fn class(&self) -> Class {
        if self.is_ok() { Class::Done } else { Class::Failed }
    }
}

/// A job's or run's result, with what a failure means for it: a queue's retry, its dead-letter queue, or an
/// error for the caller. This is what its metrics count.
pub(crate) struct Attempt<T> {
    pub result: Result<T, JobError>,
    pub on_failure: Class,
}

impl<T> Outcome for Attempt<T> {
    fn status(&self) -> String {
        match &self.result {
            Ok(_) => "done".into(),
            Err(_) => "failed".into(),
        }
    }
    fn class(&self) -> Class {
        if self.result.is_ok() { Class::Done } else { self.on_failure }
    }
}

/// A job's or scheduled run's work, boxed: handlers are plain functions returning this, so each is compiled
/// once, in `shared`, and a function binary only names the one it runs.
pub type JobFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), JobError>> + Send>>;

/// Like [`JobFuture`], for handlers that answer with a JSON report (schedules, direct invocations).
pub type ReportFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<serde_json::Value, JobError>> + Send>>;

/// Runs one function instance to the end: a Tokio runtime, [`Platform::start`], then the trigger's loop.
///
/// Each trigger's `run` is a plain (not `async`, not generic) function, so a function binary's `main` — one call
/// to it — makes the compiler instantiate nothing in the binary: the runtime loop and the handlers are compiled
/// once, in `shared`, and building the many function binaries is little more than linking. (Awaiting an
/// `async fn` of this crate from the binary would instantiate its whole body there again: release builds do
/// not share generic instantiations between crates.)
fn run_instance<F>(function_name: &'static str, serve: F) -> Result<(), BoxError>
where
    F: FnOnce(&'static Platform) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BoxError>>>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let platform = Platform::start(function_name).await?;
        serve(platform).await
    })
}

/// The error type the Lambda runtime reports for a failed invocation.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
