//! The `debug` job, on its own SQS queue.
use shared::{BoxError, Platform, debug_job, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("debug").await?;
    trigger::sqs::serve(platform, |platform, job| async move {
        let outcome = debug_job::run(&platform.db, &job).await?;
        tracing::info!(job_id = %job.id, ?outcome, "debug job done");
        Ok(())
    })
    .await
}
