//! `GET /api/v1/me`: the signed-in user's profile.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("get-me").await?;
    trigger::http::serve(platform, "GET /api/v1/me", shared::users::get_me).await
}
