//! `GET /api/v1/stats`: statistics of the whole platform.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("global-stats").await?;
    trigger::http::serve(platform, "GET /api/v1/stats", shared::quiz::stats::global).await
}
