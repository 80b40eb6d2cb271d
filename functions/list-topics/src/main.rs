//! `GET /api/v1/topics`: topics with published tasks in a language.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("list-topics").await?;
    trigger::http::serve(platform, "GET /api/v1/topics", shared::quiz::catalogue::list_topics).await
}
