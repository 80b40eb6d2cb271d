//! Administration of content: importing question banks and publishing tasks (DOMAIN §2).
//!
//! The import reads the earlier system's format through [`crate::quiz::import`], which checks every task on its
//! own, and writes what passed in one transaction: missing topics and subtopics are created, a task that exists
//! already (same `identity_key`) is left as it is — only translations in new languages are added — so importing a
//! file twice creates nothing new. The report says, per task, what happened and why anything was refused.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{DbError, Transaction};
use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::identity::Viewer;
use crate::platform::Platform;
use crate::quiz::catalogue;
use crate::quiz::import::{self, BankError, TaskDraft};

/// Tasks without a subtopic in the bank are filed under this one, so every task is reachable from the feed.
pub const DEFAULT_SUBTOPIC: &str = "General";

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Created,
    Exists,
    Rejected,
}

#[derive(Debug, Serialize)]
pub struct TaskReport {
    pub index: usize,
    pub status: TaskStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<i64>,
    /// Languages added to a task that existed already.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub translations_added: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<BTreeMap<String, String>>,
    /// What the task was imported with although the bank did not say so, by field path (e.g. `difficulty` →
    /// `missing; imported as medium`); only for an imported or existing task.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub warnings: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub existing: usize,
    pub rejected: usize,
    pub published: bool,
    pub topics_created: Vec<String>,
    pub subtopics_created: Vec<String>,
    pub tasks: Vec<TaskReport>,
}

/// A URL-safe slug of a topic name: "C++" → "cplusplus", "Go Basics" → "go-basics".
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' => slug.push(c),
            '+' => slug.push_str("plus"),
            '#' => slug.push_str("sharp"),
            _ if !slug.is_empty() && !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() { "topic".to_string() } else { slug }
}

struct Writer<'t, 'c> {
    tx: &'t Transaction<'c>,
    topics: HashMap<String, i64>,
    subtopics: HashMap<(i64, String), i64>,
    topics_created: Vec<String>,
    subtopics_created: Vec<String>,
}

impl Writer<'_, '_> {
    async fn topic(&mut self, name: &str) -> Result<i64, DbError> {
        let key = name.to_lowercase();
        if let Some(id) = self.topics.get(&key) {
            return Ok(*id);
        }
        let found = self.tx.query_opt("SELECT id FROM topics WHERE lower(name) = lower($1)", &[&name]).await?;
        let id = match found {
            Some(row) => row.get(0),
            None => {
                // The first free slug of `base`, `base-2`, `base-3`, …; a concurrent import that creates the same
                // topic first wins, and this one takes its row.
                let base = slugify(name);
                let taken: Vec<String> = self
                    .tx
                    .query("SELECT slug FROM topics WHERE slug = $1 OR slug LIKE $1 || '-%'", &[&base])
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                let slug = std::iter::once(base.clone())
                    .chain((2..).map(|n| format!("{base}-{n}")))
                    .find(|candidate| !taken.contains(candidate))
                    .unwrap_or(base);
                let inserted = self
                    .tx
                    .query_opt("INSERT INTO topics (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id", &[&name, &slug])
                    .await?;
                match inserted {
                    Some(row) => {
                        self.topics_created.push(name.to_string());
                        row.get(0)
                    }
                    None => self.tx.query_one("SELECT id FROM topics WHERE lower(name) = lower($1)", &[&name]).await?.get(0),
                }
            }
        };
        self.topics.insert(key, id);
        Ok(id)
    }

    async fn subtopic(&mut self, topic_id: i64, name: &str) -> Result<i64, DbError> {
        let key = (topic_id, name.to_lowercase());
        if let Some(id) = self.subtopics.get(&key) {
            return Ok(*id);
        }
        let row = self
            .tx
            .query_one(
                "WITH inserted AS (
                     INSERT INTO subtopics (topic_id, name) VALUES ($1, $2)
                     ON CONFLICT (topic_id, lower(name)) DO NOTHING RETURNING id)
                 SELECT id, true FROM inserted
                 UNION ALL SELECT id, false FROM subtopics WHERE topic_id = $1 AND lower(name) = lower($2)
                 LIMIT 1",
                &[&topic_id, &name],
            )
            .await?;
        if row.get::<_, bool>(1) {
            self.subtopics_created.push(name.to_string());
        }
        let id = row.get(0);
        self.subtopics.insert(key, id);
        Ok(id)
    }

    async fn task(&mut self, index: usize, draft: &TaskDraft, publish: bool) -> Result<TaskReport, DbError> {
        let topic_id = self.topic(&draft.topic).await?;
        let subtopic_id = self.subtopic(topic_id, draft.subtopic.as_deref().unwrap_or(DEFAULT_SUBTOPIC)).await?;
        let identity = draft.identity_key(topic_id);
        let inserted = self
            .tx
            .query_opt(
                "INSERT INTO tasks (topic_id, subtopic_id, difficulty, identity_key, translation_group_id, image_url,
                                    external_link, published_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END)
                 ON CONFLICT (identity_key) DO NOTHING RETURNING id",
                &[
                    &topic_id,
                    &subtopic_id,
                    &draft.difficulty.as_str(),
                    &identity,
                    &draft.translation_group_id,
                    &draft.image_url,
                    &draft.external_link,
                    &publish,
                ],
            )
            .await?;
        let (task_id, created) = match inserted {
            Some(row) => (row.get::<_, i64>(0), true),
            None => (self.tx.query_one("SELECT id FROM tasks WHERE identity_key = $1", &[&identity]).await?.get(0), false),
        };
        let mut added = Vec::new();
        for t in &draft.translations {
            let n = self
                .tx
                .execute(
                    "INSERT INTO task_translations (task_id, language, question, options, correct_index, explanation)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id, language) DO NOTHING",
                    &[&task_id, &t.language.as_str(), &t.question, &t.options, &(t.correct_index as i16), &t.explanation],
                )
                .await?;
            if n == 1 && !created {
                added.push(t.language.as_str().to_string());
            }
        }
        Ok(TaskReport {
            index,
            status: if created { TaskStatus::Created } else { TaskStatus::Exists },
            task_id: Some(task_id),
            translations_added: added,
            reasons: None,
            warnings: draft.warnings.clone(),
        })
    }
}

fn bank_refusal(e: BankError) -> ApiError {
    match e {
        BankError::TooManyTasks { .. } => ApiError::unprocessable("too_many_tasks", e.to_string()),
        BankError::Empty => ApiError::unprocessable("empty_bank", e.to_string()),
        BankError::NotJson(_) => ApiError::bad_request("invalid_json", e.to_string()),
        BankError::NotABank(_) => ApiError::bad_request("invalid_bank", e.to_string()),
    }
}

/// `POST /api/v1/admin/tasks/import[?publish=false]`: imports a question bank; tasks are published unless
/// `publish=false`.
pub async fn import_tasks(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Viewer::admin(platform, &request).await?;
    let publish = match request.query_param("publish") {
        None | Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(_) => {
            return Err(ApiError::bad_request("invalid_query", "`publish` must be true or false").with_field("publish", "must be true or false"));
        }
    };
    let report = import_bank(platform, &request.body, publish).await.map_err(|e| match e {
        ImportError::Bank(e) => bank_refusal(e),
        ImportError::Database(e) => e.into(),
    })?;
    Ok(ApiResponse::ok(&report))
}

/// Why a whole bank could not be imported (a single task's problems are in its report instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Bank(#[from] BankError),
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Imports a question bank in one transaction, whoever sent it (the admin route, or the bot's document import),
/// and answers the per-task report.
pub async fn import_bank(platform: &Platform, bank: &[u8], publish: bool) -> Result<ImportReport, ImportError> {
    let outcomes = import::parse_bank(bank)?;
    let mut conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let mut writer =
        Writer { tx: &tx, topics: HashMap::new(), subtopics: HashMap::new(), topics_created: Vec::new(), subtopics_created: Vec::new() };
    let mut reports = Vec::with_capacity(outcomes.len());
    for (index, outcome) in outcomes.iter().enumerate() {
        reports.push(match outcome {
            Ok(draft) => writer.task(index, draft, publish).await?,
            Err(rejection) => TaskReport {
                index,
                status: TaskStatus::Rejected,
                task_id: None,
                translations_added: Vec::new(),
                reasons: Some(rejection.reasons.clone()),
                warnings: BTreeMap::new(),
            },
        });
    }
    let (topics_created, subtopics_created) = (writer.topics_created, writer.subtopics_created);
    tx.commit().await?;
    drop(conn);
    let count = |s: TaskStatus| reports.iter().filter(|r| r.status == s).count();
    let report = ImportReport {
        created: count(TaskStatus::Created),
        existing: count(TaskStatus::Exists),
        rejected: count(TaskStatus::Rejected),
        published: publish,
        topics_created,
        subtopics_created,
        tasks: reports,
    };
    if report.created > 0 || reports_added(&report) {
        catalogue::invalidate(platform).await;
    }
    Ok(report)
}

fn reports_added(report: &ImportReport) -> bool {
    report.tasks.iter().any(|t| !t.translations_added.is_empty())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskChanges {
    published: bool,
}

#[derive(Debug, Serialize)]
struct TaskState {
    id: i64,
    published: bool,
    published_at: Option<DateTime<Utc>>,
}

/// `PATCH /api/v1/admin/tasks/{task_id}` with `{"published": true|false}`: publishes or unpublishes a task.
pub async fn update_task(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let task_id = request.path_id("task_id")?;
    Viewer::admin(platform, &request).await?;
    let changes: TaskChanges = request.json()?;
    let conn = platform.db.connection().await?;
    let row = conn
        .query_opt(
            "UPDATE tasks SET published_at = CASE WHEN $2 THEN coalesce(published_at, now()) END
             WHERE id = $1 RETURNING published_at",
            &[&task_id, &changes.published],
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no task {task_id}")))?;
    drop(conn);
    catalogue::invalidate(platform).await;
    let published_at: Option<DateTime<Utc>> = row.get(0);
    Ok(ApiResponse::ok(&TaskState { id: task_id, published: published_at.is_some(), published_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_and_keep_what_tells_languages_apart() {
        assert_eq!(slugify("Python"), "python");
        assert_eq!(slugify("C++"), "cplusplus");
        assert_eq!(slugify("C#"), "csharp");
        assert_eq!(slugify("Go  Basics!"), "go-basics");
        assert_eq!(slugify("???"), "topic");
    }
}
