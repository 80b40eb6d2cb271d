//! `GET /api/v1/subtopics/{subtopic_id}/tasks`: the tasks of a subtopic, without answers until answered.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("task-feed").await?;
    trigger::http::serve(platform, "GET /api/v1/subtopics/{subtopic_id}/tasks", shared::quiz::catalogue::task_feed).await
}
