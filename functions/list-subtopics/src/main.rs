//! `GET /api/v1/topics/{topic_id}/subtopics`: subtopics of a topic with counts per difficulty.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("list-subtopics").await?;
    trigger::http::serve(platform, "GET /api/v1/topics/{topic_id}/subtopics", shared::quiz::catalogue::list_subtopics).await
}
