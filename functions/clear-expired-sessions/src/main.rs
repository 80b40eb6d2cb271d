//! `clear-expired-sessions`: daily at 03:00 UTC, deletes expired sessions in batches and reports the count.
use shared::{BoxError, Platform, sessions, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("clear-expired-sessions").await?;
    trigger::schedule::serve(platform, "clear-expired-sessions", |platform, _run| async move {
        let cleared = sessions::clear_expired(&platform.db, sessions::DELETE_BATCH).await?;
        Ok(serde_json::to_value(cleared)?)
    })
    .await
}
