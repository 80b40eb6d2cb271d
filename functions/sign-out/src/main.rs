//! `POST /api/v1/auth/logout`: ends the session (or every session of the user).
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("sign-out").await?;
    trigger::http::serve(platform, "POST /api/v1/auth/logout", shared::identity::sign_out).await
}
