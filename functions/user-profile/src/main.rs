//! `GET /api/v1/users/{user_id}`: a user's public profile and statistics.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("user-profile").await?;
    trigger::http::serve(platform, "GET /api/v1/users/{user_id}", shared::quiz::stats::user_profile).await
}
