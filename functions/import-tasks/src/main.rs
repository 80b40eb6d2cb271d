//! `POST /api/v1/admin/tasks/import`: admin - imports a question bank in the earlier system's format.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("import-tasks").await?;
    trigger::http::serve(platform, "POST /api/v1/admin/tasks/import", shared::quiz::admin::import_tasks).await
}
