//! `GET /api/v1/topics/{topic_id}`: one topic.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("get-topic").await?;
    trigger::http::serve(platform, "GET /api/v1/topics/{topic_id}", shared::quiz::catalogue::get_topic).await
}
