//! `GET /api/v1/health`.
use shared::{BoxError, Platform, health, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("health").await?;
    trigger::http::serve(platform, "GET /api/v1/health", health::route).await
}
