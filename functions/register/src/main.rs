//! `POST /api/v1/auth/register`: creates an account with e-mail and password and signs it in.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("register").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/register", shared::identity::register).await
}
