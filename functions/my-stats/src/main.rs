//! `GET /api/v1/me/stats`: the signed-in user's statistics.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("my-stats").await?;
    trigger::http::serve(platform, "GET /api/v1/me/stats", shared::quiz::stats::my_stats).await
}
