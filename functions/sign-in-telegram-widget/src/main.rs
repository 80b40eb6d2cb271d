//! `POST /api/v1/auth/telegram/widget`: signs in with Telegram Login Widget data.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("sign-in-telegram-widget").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/telegram/widget", shared::identity::sign_in_telegram_widget).await
}
