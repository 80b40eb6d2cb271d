//! `POST /api/v1/auth/telegram/mini-app`: signs in with Telegram Mini App initData.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("sign-in-mini-app").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/telegram/mini-app", shared::identity::sign_in_mini_app).await
}
