//! `POST /api/v1/me/heartbeat`: marks the signed-in user online.
use shared::{BoxError, Platform, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("heartbeat").await?;
    trigger::http::serve(platform, "POST /api/v1/me/heartbeat", shared::users::heartbeat).await
}
