//! The `debug` job: logs the envelope it received and records it in PostgreSQL, once per job id, so the wiring
//! from a queue to a function can be checked end to end. A payload with `"fail": "<reason>"` makes it fail
//! on purpose, to exercise retries and the dead-letter queue; `"hold_ms": n` (at most 5000) makes it take that long
//! before recording, so a fault drill can stop its instance mid-job.

use platform::Platform;
use platform::db::Database;
use platform::jobs::JobEnvelope;
use platform::trigger::{JobError, JobFuture};

/// What one run did with its envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugOutcome {
    Recorded,
    /// The same job id was already recorded: a second delivery, with no second effect.
    AlreadyRecorded,
}

pub async fn run(db: &Database, job: &JobEnvelope) -> Result<DebugOutcome, JobError> {
    if let Some(reason) = job.payload.get("fail") {
        return Err(JobError(format!("debug job asked to fail: {reason}")));
    }
    if let Some(ms) = job.payload.get("hold_ms").and_then(serde_json::Value::as_u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms.min(5000))).await;
    }
    tracing::info!(job_id = %job.id, enqueued_at = %job.enqueued_at, payload = %job.payload, "debug job received");
    let connection = db.connection().await?;
    let inserted = connection
        .execute(
            "INSERT INTO debug_job_runs (job_id, payload, enqueued_at) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING",
            &[&job.id, &job.payload, &job.enqueued_at],
        )
        .await?;
    Ok(if inserted == 1 { DebugOutcome::Recorded } else { DebugOutcome::AlreadyRecorded })
}

/// The `debug` function's job handler.
pub fn handle(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let outcome = run(&platform.db, &job).await?;
        tracing::info!(job_id = %job.id, ?outcome, "debug job done");
        Ok(())
    })
}
