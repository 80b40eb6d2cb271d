//! `PATCH /api/v1/admin/tasks/{task_id}`: admin - publishes or unpublishes a task.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("update-task").await?;
    trigger::http::serve(platform, "PATCH /api/v1/admin/tasks/{task_id}", shared::quiz::admin::update_task).await
}
