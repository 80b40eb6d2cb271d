//! Migrations: the plain SQL files under `infra/migrations/`, compiled into the binary and applied in order, all
//! pending ones in one transaction, each recorded in `schema_migrations` with its SQL's SHA-256. Applying them
//! again changes nothing.
//!
//! Not refinery (which this replaced): it parses each file name with a regex engine at run time, which made
//! `migrate` the largest binary but the Telegram ones for what fits in a list below; and it takes no lock, so two
//! `migrate` runs at once (a deploy and a developer) could both apply the same file. Here a transaction-scoped
//! advisory lock makes the second wait, then find nothing to do.

use platform::Platform;
use platform::db::{Database, DbError};
use platform::trigger::{JobError, ReportFuture};
use sha2::{Digest, Sha256};

/// One file of `infra/migrations/`: `V<version>__<name>.sql`.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

impl Migration {
    /// As the file is named, without `.sql`: `V3__quiz`.
    fn label(&self) -> String {
        format!("V{}__{}", self.version, self.name)
    }

    fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

macro_rules! migrations {
    ($($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../infra/migrations/V", stringify!($version), "__", $name, ".sql")),
        }),*]
    };
}

/// Every migration, in order. A new file under `infra/migrations/` is added here too: a test compares this list
/// with the folder, so one that is not cannot be forgotten.
const MIGRATIONS: &[Migration] = migrations![
    1 "users_and_sessions",
    2 "debug_job_runs",
    3 "quiz",
    4 "contact_and_mail",
    5 "media_and_feedback",
    6 "blog",
    7 "telegram",
    8 "outbound_webhooks",
    9 "auth_limits",
    10 "update_outcomes_telegram",
    11 "import_identity",
];

/// Why the database was left as it was.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("migration {label} failed, nothing was applied: {source}")]
    Failed { label: String, source: DbError },
    /// The database's record and this binary's files disagree: an applied file was edited, or a newer build's
    /// migrations were applied before this older one ran. Nothing is applied until a person decides.
    #[error("{0}")]
    Diverged(String),
}

/// Applies the pending migrations; returns the names of those it applied (empty when up to date).
pub async fn apply(db: &Database) -> Result<Vec<String>, MigrationError> {
    let connection = db.connection().await?;
    let transaction = connection.transaction().await?;
    // Taken before the table exists, so that two first runs do not both create it; released with the transaction.
    transaction.batch_execute("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))").await?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 checksum text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    adopt_refinery_history(&transaction).await?;
    let applied =
        transaction.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version", &[]).await?;
    for row in &applied {
        let (version, name, checksum): (i32, String, String) = (row.get(0), row.get(1), row.get(2));
        match MIGRATIONS.iter().find(|m| m.version == version) {
            None => {
                return Err(MigrationError::Diverged(format!(
                    "the database has V{version}__{name}, which this binary does not carry: a newer build migrated it"
                )));
            }
            Some(m) if m.name != name || m.checksum() != checksum => {
                return Err(MigrationError::Diverged(format!(
                    "{} differs from V{version}__{name} as it was applied (name or SQL changed since)",
                    m.label()
                )));
            }
            Some(_) => {}
        }
    }
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.iter().any(|row| row.get::<_, i32>(0) == m.version)) {
        let failed = |source| MigrationError::Failed { label: m.label(), source };
        transaction.batch_execute(m.sql).await.map_err(failed)?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &m.checksum()],
            )
            .await?;
        done.push(m.label());
    }
    transaction.commit().await?;
    Ok(done)
}

/// A database that refinery migrated (every local database made before this runner) has its record in
/// `refinery_schema_history`, which refinery checked against the same files: the first run here takes the
/// versions it names into `schema_migrations`, so nothing already applied is applied again.
async fn adopt_refinery_history(transaction: &platform::db::Transaction) -> Result<(), MigrationError> {
    let found = transaction
        .query_one(
            "SELECT NOT EXISTS (SELECT 1 FROM schema_migrations)
                    AND to_regclass('refinery_schema_history') IS NOT NULL AS adopt",
            &[],
        )
        .await?;
    if !found.get::<_, bool>("adopt") {
        return Ok(());
    }
    for row in transaction.query("SELECT version FROM refinery_schema_history ORDER BY version", &[]).await? {
        let version: i32 = row.get(0);
        let m = MIGRATIONS.iter().find(|m| m.version == version).ok_or_else(|| {
            MigrationError::Diverged(format!("refinery applied version {version}, which this binary does not carry"))
        })?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &m.checksum()],
            )
            .await?;
    }
    Ok(())
}

/// Every migration the binary carries, in order.
pub fn known() -> Vec<String> {
    MIGRATIONS.iter().map(Migration::label).collect()
}

/// The `migrate` function: applies what is pending, reports what it applied and what the binary knows.
pub fn invoke(platform: &'static Platform, _event: serde_json::Value) -> ReportFuture {
    Box::pin(async move {
        let applied = apply(&platform.db).await.map_err(|e| JobError::new(e.to_string()))?;
        Ok(serde_json::json!({ "applied": applied, "known": known() }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_folder_in_order() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/migrations");
        let mut files: Vec<(i32, String)> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .map(|file| {
                let stem = file.strip_suffix(".sql").unwrap_or_else(|| panic!("{file}: not an .sql file"));
                let (version, _) = stem[1..].split_once("__").unwrap_or_else(|| panic!("{file}: not V<n>__<name>.sql"));
                (version.parse().unwrap(), stem.to_string())
            })
            .collect();
        files.sort();
        let listed: Vec<(i32, String)> = MIGRATIONS.iter().map(|m| (m.version, m.label())).collect();
        assert_eq!(listed, files, "shared/src/migrations.rs lists every file of infra/migrations, in order");
    }
}
