//! `POST /api/v1/auth/login`: signs in with e-mail and password.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("sign-in").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/login", shared::identity::sign_in).await
}
