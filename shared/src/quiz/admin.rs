//! Administration of content: importing question banks and publishing tasks (DOMAIN §2).
//!
//! The import reads the earlier system's format through [`crate::quiz::import`], which checks every task on its
//! own, and writes what passed in one transaction: missing topics and subtopics are created, a task that exists
//! already is left as it is — only translations in new languages are added — so importing a file twice creates
//! nothing new. A task exists already when its `translation_group_id` is a known task's (`tasks.identity_key`), or,
//! without one, when it has the topic of a known task and any one translation (language and question) of it
//! (`task_question_keys`), whatever the order of the translations. The report says, per task, what happened, what
//! was filled in, and why anything was refused.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::Viewer;
use crate::quiz::catalogue;
use crate::quiz::import::{self, BankError, TaskDraft};
use platform::Platform;
use platform::db::{DbError, Transaction};
use platform::http::{ApiError, ApiRequest, ApiResponse};

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
    /// What the task was imported with although the bank did not say so, or what of it was left out, by field
    /// path (e.g. `difficulty` → `missing; imported as medium`); only for an imported or existing task.
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

struct Writer<'t> {
    tx: &'t Transaction,
    topics: HashMap<String, i64>,
    subtopics: HashMap<(i64, String), i64>,
    topics_created: Vec<String>,
    subtopics_created: Vec<String>,
}

impl Writer<'_> {
    async fn topic(&mut self, name: &str) -> Result<i64, DbError> {
        let key = name.to_lowercase();
        if let Some(id) = self.topics.get(&key) {
            return Ok(*id);
        }
        let found = self.tx.query_opt("SELECT id FROM topics WHERE lower(name) = lower($1)", &[&name]).await?;
        let id = match found {
            Some(row) => row.get("id"),
            None => {
                // The first free slug of `base`, `base-2`, `base-3`, …; a concurrent import that creates the same
                // topic first wins, and this one takes its row.
                let base = slugify(name);
                let taken: Vec<String> = self
                    .tx
                    .query("SELECT slug FROM topics WHERE slug = $1 OR slug LIKE $1 || '-%'", &[&base])
                    .await?
                    .iter()
                    .map(|r| r.get("slug"))
                    .collect();
                let slug = std::iter::once(base.clone())
                    .chain((2..).map(|n| format!("{base}-{n}")))
                    .find(|candidate| !taken.contains(candidate))
                    .unwrap_or(base);
                let inserted = self
                    .tx
                    .query_opt(
                        "INSERT INTO topics (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
                        &[&name, &slug],
                    )
                    .await?;
                match inserted {
                    Some(row) => {
                        self.topics_created.push(name.to_string());
                        row.get("id")
                    }
                    None => self
                        .tx
                        .query_one("SELECT id FROM topics WHERE lower(name) = lower($1)", &[&name])
                        .await?
                        .get("id"),
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
                 SELECT id, true AS created FROM inserted
                 UNION ALL SELECT id, false FROM subtopics WHERE topic_id = $1 AND lower(name) = lower($2)
                 LIMIT 1",
                &[&topic_id, &name],
            )
            .await?;
        if row.get::<_, bool>("created") {
            self.subtopics_created.push(name.to_string());
        }
        let id = row.get("id");
        self.subtopics.insert(key, id);
        Ok(id)
    }

    async fn task(&mut self, index: usize, draft: &TaskDraft, publish: bool) -> Result<TaskReport, DbError> {
        let topic_id = self.topic(&draft.topic).await?;
        let subtopic_id = self.subtopic(topic_id, draft.subtopic.as_deref().unwrap_or(DEFAULT_SUBTOPIC)).await?;
        let keys = QuestionKeys::of(draft);
        let mut warnings = draft.warnings.clone();
        let (task_id, created) = match draft.group_key() {
            Some(group) => {
                let inserted = self.insert_task(topic_id, subtopic_id, draft, Some(&group), publish).await?;
                match inserted {
                    Some(id) => {
                        // Keys another task holds already stay with it: the group id, not the question, says which
                        // task this is.
                        self.claim_keys(topic_id, id, &keys).await?;
                        (id, true)
                    }
                    None => (
                        self.tx.query_one("SELECT id FROM tasks WHERE identity_key = $1", &[&group]).await?.get("id"),
                        false,
                    ),
                }
            }
            None => match self.known_task(topic_id, &keys).await? {
                Some(id) => (id, false),
                None => {
                    // Without an identity key the insert cannot conflict, so it always answers the new id.
                    let id = self.insert_task(topic_id, subtopic_id, draft, None, publish).await?.ok_or_else(|| {
                        DbError::Unavailable("a task without an identity key was not inserted".into())
                    })?;
                    if self.claim_keys(topic_id, id, &keys).await? == keys.len() {
                        (id, true)
                    } else {
                        // A concurrent import of the same task held one of its keys and has committed it (this one
                        // waited for it): that import's task is the task, and this copy goes, with what it claimed.
                        self.tx.execute("DELETE FROM tasks WHERE id = $1", &[&id]).await?;
                        // The key that conflicted was committed, so its task is visible to this statement; were it
                        // not, the import is refused as unavailable (503), and sent again it finds the task.
                        let winner = self.known_task(topic_id, &keys).await?.ok_or_else(|| {
                            DbError::Unavailable("a concurrent import of the same task did not leave it visible".into())
                        })?;
                        (winner, false)
                    }
                }
            },
        };

        let mut added = Vec::new();
        for (i, t) in draft.translations.iter().enumerate() {
            if !created && draft.translation_group_id.is_none() {
                // A translation that identifies another task of the topic is that task's: adding it here too would
                // show the same question twice. (It can happen only when the bank's translations match two tasks.)
                let owner: Option<i64> = self
                    .tx
                    .query_opt(
                        "SELECT task_id FROM task_question_keys WHERE topic_id = $1 AND language = $2 AND question_digest = $3",
                        &[&topic_id, &t.language.as_str(), &keys.digests[i]],
                    )
                    .await?
                    .map(|row| row.get("task_id"));
                if let Some(other) = owner.filter(|owner| *owner != task_id) {
                    warnings.insert(
                        format!("translations[{i}]"),
                        format!("not added: it is the '{}' translation of task {other}", t.language),
                    );
                    continue;
                }
            }
            let n = self
                .tx
                .execute(
                    "INSERT INTO task_translations (task_id, language, question, options, correct_index, explanation)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id, language) DO NOTHING",
                    &[
                        &task_id,
                        &t.language.as_str(),
                        &t.question,
                        &t.options,
                        &(t.correct_index as i16),
                        &t.explanation,
                    ],
                )
                .await?;
            if n == 1 && !created {
                // The new translation identifies the task from now on, like those it was created with.
                self.tx
                    .execute(
                        "INSERT INTO task_question_keys (topic_id, language, question_digest, task_id)
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        &[&topic_id, &t.language.as_str(), &keys.digests[i], &task_id],
                    )
                    .await?;
                added.push(t.language.as_str().to_string());
            }
        }
        Ok(TaskReport {
            index,
            status: if created { TaskStatus::Created } else { TaskStatus::Exists },
            task_id: Some(task_id),
            translations_added: added,
            reasons: None,
            warnings,
        })
    }

    /// Inserts the task row; `None` when `identity_key` (a group key) is a known task's already.
    async fn insert_task(
        &self,
        topic_id: i64,
        subtopic_id: i64,
        draft: &TaskDraft,
        identity_key: Option<&str>,
        publish: bool,
    ) -> Result<Option<i64>, DbError> {
        let row = self
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
                    &identity_key,
                    &draft.translation_group_id,
                    &draft.image_url,
                    &draft.external_link,
                    &publish,
                ],
            )
            .await?;
        Ok(row.map(|row| row.get("id")))
    }

    /// The oldest task of the topic that has any of `keys`.
    async fn known_task(&self, topic_id: i64, keys: &QuestionKeys) -> Result<Option<i64>, DbError> {
        let row = self
            .tx
            .query_opt(
                "SELECT task_id FROM task_question_keys
                 WHERE topic_id = $1 AND (language, question_digest) IN (SELECT * FROM unnest($2::text[], $3::text[]))
                 ORDER BY task_id LIMIT 1",
                &[&topic_id, &keys.languages, &keys.digests],
            )
            .await?;
        Ok(row.map(|row| row.get("task_id")))
    }

    /// Files `keys` under `task_id` where no task holds them yet; answers how many it filed. A key a concurrent,
    /// uncommitted import holds makes this wait for that import, and counts as held when it commits. The keys go
    /// in language order, so two imports of one task in different translation orders wait for each other rather
    /// than deadlock.
    async fn claim_keys(&self, topic_id: i64, task_id: i64, keys: &QuestionKeys) -> Result<usize, DbError> {
        let n = self
            .tx
            .execute(
                "INSERT INTO task_question_keys (topic_id, language, question_digest, task_id)
                 SELECT $1, k.language, k.digest, $2 FROM unnest($3::text[], $4::text[]) AS k (language, digest)
                 ORDER BY k.language
                 ON CONFLICT DO NOTHING",
                &[&topic_id, &task_id, &keys.languages, &keys.digests],
            )
            .await?;
        Ok(n as usize)
    }
}

/// A draft's translations as keys of `task_question_keys`, in the draft's order.
struct QuestionKeys {
    languages: Vec<String>,
    digests: Vec<String>,
}

impl QuestionKeys {
    fn of(draft: &TaskDraft) -> Self {
        Self {
            languages: draft.translations.iter().map(|t| t.language.as_str().to_string()).collect(),
            digests: draft.translations.iter().map(|t| t.question_digest()).collect(),
        }
    }

    fn len(&self) -> usize {
        self.languages.len()
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
    request.require_json_content_type()?;
    let publish = match request.query_param("publish") {
        None | Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(_) => {
            return Err(ApiError::bad_request("invalid_query", "`publish` must be true or false")
                .with_field("publish", "must be true or false"));
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
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let mut writer = Writer {
        tx: &tx,
        topics: HashMap::new(),
        subtopics: HashMap::new(),
        topics_created: Vec::new(),
        subtopics_created: Vec::new(),
    };
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
    catalogue::invalidate(platform).await;
    let published_at: Option<DateTime<Utc>> = row.get("published_at");
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
