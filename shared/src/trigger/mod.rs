//! Trigger adapters: the only code that knows what API Gateway, SQS, EventBridge or a direct invocation look
//! like. Each turns its envelope into the typed input of an ordinary async handler, runs the handler inside a
//! telemetry scope, and turns the result back into what Lambda expects.

pub mod http;
pub mod invoke;
pub mod schedule;
pub mod sqs;

use crate::platform::Platform;

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
job_error_from!(crate::db::DbError, crate::jobs::EnqueueError, crate::storage::StorageError, crate::mail::MailError, serde_json::Error);

/// The event handed to an adapter is not of the kind it serves: a wiring mistake, reported as the invocation's
/// error rather than a panic.
#[derive(Debug, thiserror::Error)]
#[error("malformed {expected} event: {reason}")]
pub struct MalformedEvent {
    pub expected: &'static str,
    pub reason: String,
}

impl<T> crate::telemetry::Outcome for Result<T, JobError> {
    fn status(&self) -> String {
        match self {
            Ok(_) => "done".into(),
            Err(_) => "failed".into(),
        }
    }
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// A job's or scheduled run's work, boxed: handlers are plain functions returning this, so each is compiled
/// once, in `shared`, and a function binary only names the one it runs.
pub type JobFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), JobError>> + Send>>;

/// Like [`JobFuture`], for handlers that answer with a JSON report (schedules, direct invocations).
pub type ReportFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<serde_json::Value, JobError>> + Send>>;

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
