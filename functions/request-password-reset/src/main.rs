//! `POST /api/v1/auth/password-reset`: mails a one-time password reset link.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("request-password-reset").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/password-reset", shared::identity::request_password_reset).await
}
