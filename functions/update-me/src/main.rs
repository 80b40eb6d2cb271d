//! `PATCH /api/v1/me`: changes the signed-in user's profile.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("update-me").await?;
    trigger::http::serve(platform, "PATCH /api/v1/me", shared::users::update_me).await
}
