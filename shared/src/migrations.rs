//! Migrations: the plain SQL files under `infra/migrations/`, compiled into the binary and applied in order by
//! refinery, which records each in `refinery_schema_history`. Applying them again changes nothing.

use platform::Platform;
use platform::db::{Database, DbError};
use platform::trigger::ReportFuture;

mod embedded {
    refinery::embed_migrations!("../infra/migrations");
}

/// Applies the pending migrations; returns the names of those it applied (empty when up to date).
pub async fn apply(db: &Database) -> Result<Vec<String>, DbError> {
    let connection = db.connection().await?;
    let report = embedded::migrations::runner()
        .set_grouped(true)
        .run_async(&mut *connection.exclusive().await)
        .await
        .map_err(|e| DbError::Unavailable(format!("migration failed: {e}")))?;
    Ok(report.applied_migrations().iter().map(|m| m.to_string()).collect())
}

/// Every migration the binary carries, in order.
pub fn known() -> Vec<String> {
    embedded::migrations::runner().get_migrations().iter().map(|m| m.to_string()).collect()
}

/// The `migrate` function: applies what is pending, reports what it applied and what the binary knows.
pub fn invoke(platform: &'static Platform, _event: serde_json::Value) -> ReportFuture {
    Box::pin(async move {
        let applied = apply(&platform.db).await?;
        Ok(serde_json::json!({ "applied": applied, "known": known() }))
    })
}
