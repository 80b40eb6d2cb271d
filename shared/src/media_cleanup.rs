//! The `cleanup-old-media-files` schedule (DOMAIN §6): deletes objects under the media prefixes that nothing in
//! the database refers to and that are older than a grace period, after forgetting abandoned uploads. A dry run
//! (`{"dry_run": true}` in the scheduled event's detail) reports the same counts and lists the keys without
//! deleting anything.
//!
//! What refers to an object, per prefix ([`platform::storage::keys`]):
//! - `uploads/<id>`: an upload still waiting for its bytes or its processing, and not abandoned;
//! - `media/…`: an upload whose processed object it is;
//! - `og/…`: a post whose Open Graph image it is.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use platform::Platform;
use platform::db::{Connection, DbError};
use platform::storage::{StoredObject, keys};
use platform::trigger::schedule::ScheduledRun;
use platform::trigger::{JobError, ReportFuture};

/// Objects younger than this are never deleted: a row that will refer to them may not be committed yet.
pub const GRACE: Duration = Duration::from_secs(24 * 3600);
/// An upload neither completed nor processed this long after it started is abandoned.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Keys checked against the database per statement.
const BATCH: usize = 1000;
/// Keys a dry run lists in its report (the counts cover all).
const LISTED: usize = 1000;

/// One run's settings.
#[derive(Debug, Clone, Copy)]
pub struct Cleanup {
    pub dry_run: bool,
    pub grace: Duration,
    pub abandoned_after: Duration,
}

/// What a run did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CleanupReport {
    pub dry_run: bool,
    /// Upload rows forgotten because they were abandoned.
    pub abandoned_uploads: u64,
    /// Objects listed under the media prefixes.
    pub scanned: u64,
    /// Unreferenced objects past the grace period: deleted, or to be deleted in a dry run.
    pub deleted: u64,
    pub deleted_bytes: u64,
    /// Unreferenced objects still inside the grace period.
    pub kept_young: u64,
    /// In a dry run, the keys that would go (at most a thousand).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// One pass: forget abandoned uploads, then delete what nothing refers to.
pub async fn run(platform: &Platform, settings: Cleanup) -> Result<CleanupReport, JobError> {
    let now = Utc::now();
    let abandoned_before = now - chrono::Duration::from_std(settings.abandoned_after).unwrap_or_default();
    let young_after = now - chrono::Duration::from_std(settings.grace).unwrap_or_default();
    let mut report = CleanupReport { dry_run: settings.dry_run, ..Default::default() };
    report.abandoned_uploads = forget_abandoned(platform, abandoned_before, settings.dry_run).await?;

    let mut doomed: Vec<StoredObject> = Vec::new();
    for prefix in keys::ALL {
        let objects = platform.storage.list(prefix).await?;
        report.scanned += objects.len() as u64;
        for batch in objects.chunks(BATCH) {
            let referenced = {
                let conn = platform.db.connection().await?;
                referenced(&conn, prefix, batch, abandoned_before).await?
            };
            for object in batch.iter().filter(|o| !referenced.contains(&o.key)) {
                if object.last_modified.is_some_and(|t| t > young_after) {
                    report.kept_young += 1;
                } else {
                    doomed.push(object.clone());
                }
            }
        }
    }
    report.deleted = doomed.len() as u64;
    report.deleted_bytes = doomed.iter().map(|o| o.size).sum();
    let doomed: Vec<String> = doomed.into_iter().map(|o| o.key).collect();
    if settings.dry_run {
        report.keys = doomed.into_iter().take(LISTED).collect();
    } else {
        platform.storage.delete_many(&doomed).await?;
    }
    Ok(report)
}

/// Upload rows never completed, or completed and never processed, since `before`: deleted (their originals
/// then refer to nothing). A dry run only counts them — [`referenced`] already treats them as gone.
async fn forget_abandoned(platform: &Platform, before: DateTime<Utc>, dry_run: bool) -> Result<u64, DbError> {
    const ABANDONED: &str = "(status = 'pending' AND created_at < $1) OR (status = 'processing' AND completed_at < $1)";
    let conn = platform.db.connection().await?;
    if dry_run {
        let row =
            conn.query_one(&format!("SELECT count(*) AS abandoned FROM uploads WHERE {ABANDONED}"), &[&before]).await?;
        Ok(row.get::<_, i64>("abandoned") as u64)
    } else {
        conn.execute(&format!("DELETE FROM uploads WHERE {ABANDONED}"), &[&before]).await
    }
}

/// The keys of `batch` (all under `prefix`) that a row refers to: one statement per batch.
async fn referenced(
    conn: &Connection,
    prefix: &str,
    batch: &[StoredObject],
    abandoned_before: DateTime<Utc>,
) -> Result<HashSet<String>, DbError> {
    let keys: Vec<&str> = batch.iter().map(|o| o.key.as_str()).collect();
    let rows = match prefix {
        keys::ORIGINALS => {
            // An original's key is its upload's id; a key that is no id refers to nothing.
            let ids: Vec<Uuid> =
                keys.iter().filter_map(|k| k.strip_prefix(keys::ORIGINALS)).filter_map(|id| id.parse().ok()).collect();
            conn.query(
                "SELECT $3 || id::text AS key FROM uploads
                  WHERE id = ANY($1)
                    AND ((status = 'pending' AND created_at >= $2) OR (status = 'processing' AND completed_at >= $2))",
                &[&ids, &abandoned_before, &keys::ORIGINALS],
            )
            .await?
        }
        keys::PROCESSED => {
            conn.query("SELECT processed_key AS key FROM uploads WHERE processed_key = ANY($1)", &[&keys]).await?
        }
        keys::OPEN_GRAPH => {
            conn.query("SELECT og_image_key AS key FROM posts WHERE og_image_key = ANY($1)", &[&keys]).await?
        }
        keys::CODE_IMAGES => {
            conn.query("SELECT s3_key AS key FROM telegram_code_images WHERE s3_key = ANY($1)", &[&keys]).await?
        }
        other => return Err(DbError::Config(format!("no rule says what refers to objects under {other}"))),
    };
    // Every statement above names its one column `key`.
    Ok(rows.iter().map(|row| row.get::<_, String>("key")).collect())
}

/// Options a scheduled event's detail may carry.
#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    dry_run: bool,
}

/// The `cleanup-old-media-files` schedule.
pub fn job(platform: &'static Platform, run: ScheduledRun) -> ReportFuture {
    Box::pin(async move {
        let options: Options =
            if run.detail.is_object() { serde_json::from_value(run.detail)? } else { Options::default() };
        let settings = Cleanup { dry_run: options.dry_run, grace: GRACE, abandoned_after: ABANDONED_AFTER };
        Ok(serde_json::to_value(self::run(platform, settings).await?)?)
    })
}
