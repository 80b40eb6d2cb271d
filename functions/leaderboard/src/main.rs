//! `GET /api/v1/leaderboard`: top players by rating, with filters.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("leaderboard").await?;
    trigger::http::serve(platform, "GET /api/v1/leaderboard", shared::quiz::leaderboard::route).await
}
