//! `POST /api/v1/auth/password-reset/confirm`: sets a new password with a reset token.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("confirm-password-reset").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/password-reset/confirm", shared::identity::confirm_password_reset).await
}
