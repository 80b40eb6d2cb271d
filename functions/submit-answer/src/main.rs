//! `POST /api/v1/tasks/{task_id}/answer`: answers a task; the first answer decides.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("submit-answer").await?;
    trigger::http::serve(platform, "POST /api/v1/tasks/{task_id}/answer", shared::quiz::answers::submit_answer).await
}
