//! `migrate`: invoked directly after a deploy (and by the local cloud); applies pending migrations.
use shared::{BoxError, Platform, migrations, trigger};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let platform = Platform::start("migrate").await?;
    trigger::invoke::serve(platform, "migrate", |platform, _event| async move {
        let applied = migrations::apply(&platform.db).await?;
        Ok(serde_json::json!({ "applied": applied, "known": migrations::known() }))
    })
    .await
}
