//! `GET /api/v1/health`.
use std::time::Duration;

use shared::{BoxError, Platform, health, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("health").await?;
    let checker: &'static health::Checker = Box::leak(Box::new(health::Checker::new(Duration::from_secs(1))));
    trigger::http::serve(platform, "GET /api/v1/health", move |platform, request| checker.route(platform, request)).await
}
