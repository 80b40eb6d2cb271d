//! Publishing tasks to Telegram channels (DOMAIN §7).
//!
//! An admin asks, through the route or the bot, for one task or "the next task of every topic"; each of the
//! task's translations that has a channel becomes a row in `telegram_publications` and a `publish-telegram`
//! job. The job sends four messages in order — the code image, a short description, a quiz poll that is not
//! anonymous, and a "learn more" button — and records each as it goes out, so a retry resumes after the last one
//! recorded (only a failure between Telegram accepting a message and its record can send that one message again).
//! The poll's id and its option order are stored for scoring `poll_answer`s.
//!
//! Telegram's rate limit (a 429 with `retry_after`) sends the job back to its queue with that delay; it does not
//! count as a failed attempt. A request Telegram refuses (no such chat, the bot not an admin there) marks the
//! publication failed with Telegram's reason; an outage is retried by the queue.

use std::time::Duration;

use frankenstein::input_file::FileUpload;
use frankenstein::methods::{SendPhotoParams, SendPollParams};
use frankenstein::types::{InlineKeyboardButton, InlineKeyboardMarkup, InputPollOption, PollType};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Speech;
use crate::identity::Viewer;
use crate::quiz::{Difficulty, Language};
use platform::Platform;
use platform::bot::truncate;
use platform::bot::{BotError, Sent};
use platform::db::{Connection, Transaction};
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::jobs::{JobEnvelope, JobKind, Payload};
use platform::storage::keys;
use platform::trigger::{JobError, JobFuture};

/// A task whose last publication is older than this may be published again by "the next task of every topic".
pub const REPUBLISH_AFTER_DAYS: i32 = 30;
/// Telegram's limits on a quiz poll.
const POLL_MAX_OPTIONS: usize = 10;
const POLL_OPTION_CHARS: usize = 100;
const POLL_QUESTION_CHARS: usize = 300;
const POLL_EXPLANATION_CHARS: usize = 200;

/// What to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// One task, every translation.
    Task(i64),
    /// Per topic, the first published task never sent to a channel, or last sent more than 30 days ago.
    NextOfEveryTopic,
}

/// One translation on its way to its channel.
#[derive(Debug, Serialize)]
pub struct Queued {
    pub publication_id: Uuid,
    pub task_id: i64,
    pub language: String,
    pub chat_id: i64,
}

/// A translation with no channel registered for its topic and language.
#[derive(Debug, Serialize)]
pub struct MissingChannel {
    pub task_id: i64,
    pub topic_id: i64,
    pub language: String,
}

/// What a request to publish set in motion.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub tasks: Vec<i64>,
    pub queued: Vec<Queued>,
    pub missing_channels: Vec<MissingChannel>,
}

impl Plan {
    /// The bot's answer to `/publish`.
    pub fn summary(&self) -> String {
        if self.tasks.is_empty() {
            return "Nothing to publish: every topic's tasks went out within the last 30 days.".into();
        }
        let mut text = format!("Publishing {} translation(s) of task(s) {:?}.", self.queued.len(), self.tasks);
        for missing in &self.missing_channels {
            text.push_str(&format!(
                "\nNo channel for topic {} in '{}' (task {}).",
                missing.topic_id, missing.language, missing.task_id
            ));
        }
        text
    }
}

impl Plan {
    /// The `publish-telegram` job of each queued translation, whose id is the publication's: the job resumes
    /// where the publication got to, so enqueueing it twice sends nothing twice.
    pub fn jobs(&self) -> Result<Vec<JobEnvelope>, serde_json::Error> {
        self.queued
            .iter()
            .map(|q| JobEnvelope::with_id_of(q.publication_id, &PublishJob { publication_id: q.publication_id }))
            .collect()
    }
}

/// Records a publication per translation that has a channel, and queues its job: the admin route's way.
pub async fn plan(platform: &Platform, selection: Selection) -> Result<Plan, ApiError> {
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let plan = record_plan(&tx, selection).await?;
    tx.commit().await?;
    let jobs = plan.jobs().map_err(ApiError::internal)?;
    for (i, job) in jobs.iter().enumerate() {
        if let Err(e) = platform.jobs.enqueue(job).await {
            // The publications whose job did not leave would wait for ever: record them failed, with why.
            let unqueued: Vec<Uuid> = jobs[i..].iter().map(|j| j.id).collect();
            tracing::warn!(error = %e, publications = ?unqueued, "could not queue a publication");
            let conn = platform.db.connection().await?;
            conn.execute(
                "UPDATE telegram_publications SET state = 'failed', error = $2 WHERE id = ANY($1)",
                &[&unqueued, &e.to_string()],
            )
            .await?;
            return Err(ApiError::unavailable("the job queue"));
        }
    }
    Ok(plan)
}

/// Chooses the tasks and records a pending publication per translation that has a channel, in the caller's
/// transaction; queues nothing (the caller enqueues [`Plan::jobs`] once the transaction has committed, so no job
/// can look for a publication that is not there yet). A client error (no such task, a draft) runs no statement
/// that fails, so the transaction stays usable.
pub(crate) async fn record_plan(tx: &Transaction, selection: Selection) -> Result<Plan, ApiError> {
    let tasks: Vec<i64> = match selection {
        Selection::Task(task_id) => {
            let row = tx
                .query_opt("SELECT published_at IS NOT NULL AS published FROM tasks WHERE id = $1", &[&task_id])
                .await?;
            match row.map(|r| r.get::<_, bool>("published")) {
                None => return Err(ApiError::not_found(format!("there is no task {task_id}"))),
                Some(false) => {
                    return Err(ApiError::conflict(format!(
                        "task {task_id} is a draft: publish it on the site before sending it to a channel"
                    )));
                }
                Some(true) => vec![task_id],
            }
        }
        Selection::NextOfEveryTopic => tx
            .query(
                "SELECT DISTINCT ON (k.topic_id) k.id
                   FROM tasks k
                   LEFT JOIN LATERAL (SELECT max(p.published_at) AS last,
                                             bool_or(p.state NOT IN ('published', 'failed')) AS in_flight
                                        FROM telegram_publications p WHERE p.task_id = k.id) p ON true
                  WHERE k.published_at IS NOT NULL
                    AND NOT coalesce(p.in_flight, false)
                    AND (p.last IS NULL OR p.last < now() - make_interval(days => $1))
                  ORDER BY k.topic_id, p.last NULLS FIRST, k.id",
                &[&REPUBLISH_AFTER_DAYS],
            )
            .await?
            .iter()
            .map(|r| r.get("id"))
            .collect(),
    };
    let rows = tx
        .query(
            "SELECT tr.task_id, tr.language, k.topic_id, c.chat_id
               FROM task_translations tr
               JOIN tasks k ON k.id = tr.task_id
               LEFT JOIN telegram_channels c ON c.topic_id = k.topic_id AND c.language = tr.language
              WHERE tr.task_id = ANY($1)
              ORDER BY tr.task_id, tr.language",
            &[&tasks],
        )
        .await?;
    let mut plan = Plan { tasks, queued: Vec::new(), missing_channels: Vec::new() };
    for row in rows {
        let (task_id, language, topic_id, chat_id): (i64, String, i64, Option<i64>) =
            (row.get("task_id"), row.get("language"), row.get("topic_id"), row.get("chat_id"));
        let Some(chat_id) = chat_id else {
            plan.missing_channels.push(MissingChannel { task_id, topic_id, language });
            continue;
        };
        let publication_id = Uuid::new_v4();
        tx.execute(
            "INSERT INTO telegram_publications (id, task_id, language, chat_id) VALUES ($1, $2, $3, $4)",
            &[&publication_id, &task_id, &language, &chat_id],
        )
        .await?;
        plan.queued.push(Queued { publication_id, task_id, language, chat_id });
    }
    Ok(plan)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    task_id: Option<i64>,
    #[serde(default)]
    next: Option<bool>,
}

/// `POST /api/v1/admin/telegram/publish` with `{"task_id": n}` or `{"next": true}`: 202 with the plan.
pub async fn publish_route(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Viewer::admin(platform, &request).await?;
    let body: PublishBody = request.json()?;
    let selection = match (body.task_id, body.next) {
        (Some(id), None | Some(false)) if id > 0 => Selection::Task(id),
        (None, Some(true)) => Selection::NextOfEveryTopic,
        (Some(_), None | Some(false)) => {
            return Err(ApiError::bad_request("validation_failed", "`task_id` must be a positive task id")
                .with_field("task_id", "must be positive"));
        }
        _ => {
            return Err(ApiError::bad_request(
                "validation_failed",
                "give exactly one of `task_id` or `\"next\": true`",
            )
            .with_field("task_id", "give a task id, or `next: true` instead"));
        }
    };
    let plan = plan(platform, selection).await?;
    Ok(ApiResponse::json(StatusCode::ACCEPTED, &plan))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelBody {
    topic_id: i64,
    language: String,
    chat_id: i64,
    #[serde(default)]
    default_link: Option<String>,
}

/// `PUT /api/v1/admin/telegram/channels`: registers (or changes) the channel of a topic and language, and the
/// "learn more" link of its tasks that have none.
pub async fn register_channel(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Viewer::admin(platform, &request).await?;
    let body: ChannelBody = request.json()?;
    let mut problems = std::collections::BTreeMap::new();
    let Some(language) = Language::parse(&body.language) else {
        return Err(ApiError::bad_request("validation_failed", "`language` must be a two-letter language code")
            .with_field("language", "must be a two-letter language code"));
    };
    if body.chat_id == 0 {
        problems.insert("chat_id".to_string(), "must be a Telegram chat id (channels' are negative)".to_string());
    }
    if let Some(link) = &body.default_link
        && (link.len() > 2000 || !(link.starts_with("https://") || link.starts_with("http://")))
    {
        problems.insert("default_link".to_string(), "must be an http(s) URL of at most 2000 characters".to_string());
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let conn = platform.db.connection().await?;
    let row = conn
        .query_opt(
            "INSERT INTO telegram_channels (topic_id, language, chat_id, default_link)
             SELECT id, $2, $3, $4 FROM topics WHERE id = $1
             ON CONFLICT (topic_id, language) DO UPDATE SET chat_id = EXCLUDED.chat_id, default_link = EXCLUDED.default_link
             RETURNING xmax = 0 AS created",
            &[&body.topic_id, &language.as_str(), &body.chat_id, &body.default_link],
        )
        .await?;
    let Some(row) = row else { return Err(ApiError::not_found(format!("there is no topic {}", body.topic_id))) };
    let created: bool = row.get("created");
    let channel = serde_json::json!({
        "topic_id": body.topic_id, "language": language, "chat_id": body.chat_id, "default_link": body.default_link, "created": created,
    });
    Ok(ApiResponse::json(if created { StatusCode::CREATED } else { StatusCode::OK }, &channel))
}

/// How far a publication got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    PhotoSent,
    TextSent,
    PollSent,
    Published,
    Failed,
}

impl State {
    fn parse(s: &str) -> Self {
        match s {
            "photo_sent" => State::PhotoSent,
            "text_sent" => State::TextSent,
            "poll_sent" => State::PollSent,
            "published" => State::Published,
            "failed" => State::Failed,
            _ => State::Pending,
        }
    }
}

/// Everything the four messages are made of.
struct Translation {
    task_id: i64,
    language: Language,
    chat_id: i64,
    state: State,
    question: String,
    options: Vec<String>,
    correct_index: i16,
    explanation: Option<String>,
    difficulty: Difficulty,
    topic: String,
    subtopic: Option<String>,
    link: Option<String>,
}

const LOAD: &str = "
SELECT p.task_id, p.language, p.chat_id, p.state, tr.question, tr.options, tr.correct_index, tr.explanation,
       k.difficulty, t.name AS topic, s.name AS subtopic, coalesce(k.external_link, c.default_link) AS link
  FROM telegram_publications p
  JOIN tasks k ON k.id = p.task_id
  JOIN topics t ON t.id = k.topic_id
  LEFT JOIN subtopics s ON s.id = k.subtopic_id
  JOIN task_translations tr ON tr.task_id = p.task_id AND tr.language = p.language
  LEFT JOIN telegram_channels c ON c.topic_id = k.topic_id AND c.language = p.language
 WHERE p.id = $1";

/// Why one step stopped the job.
enum Stop {
    /// Telegram asked to wait this long.
    Wait(u64),
    /// Telegram refused: the publication fails with this reason.
    Refused(String),
    /// Anything else: the queue retries.
    Retry(JobError),
}

impl From<BotError> for Stop {
    fn from(e: BotError) -> Self {
        match e {
            BotError::RetryAfter { seconds, .. } => Stop::Wait(seconds),
            BotError::Refused { .. } => Stop::Refused(e.to_string()),
            BotError::Unavailable { .. } => Stop::Retry(e.into()),
        }
    }
}

impl From<JobError> for Stop {
    fn from(e: JobError) -> Self {
        Stop::Retry(e)
    }
}

impl From<platform::db::DbError> for Stop {
    fn from(e: platform::db::DbError) -> Self {
        Stop::Retry(e.into())
    }
}

impl From<platform::storage::StorageError> for Stop {
    fn from(e: platform::storage::StorageError) -> Self {
        Stop::Retry(e.into())
    }
}

/// The `publish-telegram` job's payload.
#[derive(Debug, Serialize, Deserialize)]
struct PublishJob {
    publication_id: Uuid,
}

impl Payload for PublishJob {
    const KIND: JobKind = JobKind::PublishTelegram;
}

/// The `publish-to-telegram` job.
pub fn job(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let PublishJob { publication_id } = job.payload()?;
        let conn = platform.db.connection().await?;
        // One delivery at a time per publication: a second delivery while the first still runs retries later.
        let lock = i64::from_be_bytes(publication_id.as_bytes()[..8].try_into().unwrap_or_default());
        let locked: bool = conn.query_one("SELECT pg_try_advisory_lock($1) AS locked", &[&lock]).await?.get("locked");
        if !locked {
            return Err(JobError::new(format!(
                "publication {publication_id} is being sent by another delivery; retrying later"
            )));
        }
        let outcome = publish_one(platform, &conn, publication_id).await;
        conn.execute("SELECT pg_advisory_unlock($1)", &[&lock]).await?;
        match outcome {
            Ok(()) => Ok(()),
            Err(Stop::Wait(seconds)) => {
                tracing::info!(%publication_id, seconds, "Telegram asked to wait: the job comes back later");
                platform.jobs.enqueue_after(&job, Duration::from_secs(seconds.max(1))).await?;
                Ok(())
            }
            Err(Stop::Refused(reason)) => {
                tracing::warn!(%publication_id, reason, "publication failed");
                conn.execute(
                    "UPDATE telegram_publications SET state = 'failed', error = $2 WHERE id = $1",
                    &[&publication_id, &reason],
                )
                .await?;
                Ok(())
            }
            Err(Stop::Retry(e)) => Err(e),
        }
    })
}

async fn publish_one(platform: &Platform, conn: &Connection, id: Uuid) -> Result<(), Stop> {
    let Some(row) = conn.query_opt(LOAD, &[&id]).await? else {
        tracing::info!(publication_id = %id, "the publication or its task is gone: nothing to send");
        return Ok(());
    };
    let t = Translation {
        task_id: row.get("task_id"),
        language: Language::parse(row.get("language")).unwrap_or_else(Language::english),
        chat_id: row.get("chat_id"),
        state: State::parse(row.get("state")),
        question: row.get("question"),
        options: row.get("options"),
        correct_index: row.get("correct_index"),
        explanation: row.get("explanation"),
        difficulty: Difficulty::parse(row.get("difficulty")).unwrap_or(Difficulty::Easy),
        topic: row.get("topic"),
        subtopic: row.get("subtopic"),
        link: row.get("link"),
    };
    let mut state = t.state;
    if state == State::Pending {
        let url = code_image_url(platform, conn, &t).await?;
        let params = SendPhotoParams::builder().chat_id(t.chat_id).photo(FileUpload::String(url)).build();
        let sent: Sent = platform.bot().call("sendPhoto", &params).await?;
        conn.execute(
            "UPDATE telegram_publications SET state = 'photo_sent', photo_message_id = $2 WHERE id = $1",
            &[&id, &i64::from(sent.message_id)],
        )
        .await?;
        state = State::PhotoSent;
    }
    if state == State::PhotoSent {
        let message_id = platform.bot().send_text(t.chat_id, &description(&t), None).await?;
        conn.execute(
            "UPDATE telegram_publications SET state = 'text_sent', text_message_id = $2 WHERE id = $1",
            &[&id, &i64::from(message_id)],
        )
        .await?;
        state = State::TextSent;
    }
    if state == State::TextSent {
        let order = poll_order(t.options.len(), &mut random_source());
        let params = poll(&t, &order);
        let sent: Sent = platform.bot().call("sendPoll", &params).await?;
        let poll_id = sent
            .poll
            .as_ref()
            .map(|p| p.id.clone())
            .ok_or_else(|| JobError::new("Telegram's answer to sendPoll has no poll"))?;
        conn.execute(
            "UPDATE telegram_publications SET state = 'poll_sent', poll_message_id = $2, poll_id = $3, option_order = $4 WHERE id = $1",
            &[&id, &i64::from(sent.message_id), &poll_id, &order],
        )
        .await?;
        state = State::PollSent;
    }
    if state == State::PollSent {
        let speech = Speech::of(&t.language);
        let link =
            t.link.clone().unwrap_or_else(|| format!("{}/?lang={}", platform.config.public_base_url, t.language));
        let button =
            InlineKeyboardButton::builder().text(speech.pick("📖 Learn more", "📖 Подробнее")).url(link).build();
        let markup = InlineKeyboardMarkup::builder().inline_keyboard(vec![vec![button]]).build();
        let text = speech.pick("Want to know more about this topic?", "Хотите узнать больше об этой теме?");
        let message_id = platform.bot().send_text(t.chat_id, text, Some(markup)).await?;
        conn.execute(
            "UPDATE telegram_publications SET state = 'published', button_message_id = $2, published_at = now(), error = NULL WHERE id = $1",
            &[&id, &i64::from(message_id)],
        )
        .await?;
        tracing::info!(publication_id = %id, task_id = t.task_id, language = %t.language, chat_id = t.chat_id, "published");
        announce(platform, conn, id).await;
    }
    Ok(())
}

/// What outbound webhooks are told about a published translation.
const ANNOUNCEMENT: &str = "
SELECT jsonb_build_object('publication_id', p.id, 'task_id', p.task_id, 'language', p.language, 'chat_id', p.chat_id,
                          'poll_id', p.poll_id, 'poll_message_id', p.poll_message_id, 'published_at', p.published_at,
                          'topic', t.name, 'difficulty', k.difficulty) AS detail
  FROM telegram_publications p JOIN tasks k ON k.id = p.task_id JOIN topics t ON t.id = k.topic_id
 WHERE p.id = $1 AND p.state = 'published'";

/// Publishes the `quiz.published` event of a published translation. An event that cannot leave now is left to
/// the `republish-events` sweep: the translation is out, whatever happens to its announcement.
async fn announce(platform: &Platform, conn: &Connection, id: Uuid) {
    if let Err(e) = announce_one(platform, conn, id).await {
        tracing::warn!(publication_id = %id, error = %e, "the publication's event did not leave; the sweep publishes it");
    }
}

/// The event of one publication, when it is published.
async fn announce_one(platform: &Platform, conn: &Connection, id: Uuid) -> Result<(), JobError> {
    let Some(row) = conn.query_opt(ANNOUNCEMENT, &[&id]).await? else { return Ok(()) };
    let detail: crate::webhooks::QuizPublished = serde_json::from_value(row.get("detail"))?;
    crate::webhooks::announce(platform, conn, id, &detail).await
}

/// The `republish-events` sweep's part: published translations whose event never left.
pub async fn sweep_announcements(
    platform: &Platform,
    grace: Duration,
) -> Result<platform::events::Republished, platform::db::DbError> {
    let conn = platform.db.connection().await?;
    let rows = conn
        .query(
            "SELECT id FROM telegram_publications
              WHERE state = 'published' AND event_published_at IS NULL AND published_at < now() - make_interval(secs => $1)
              ORDER BY published_at LIMIT 100",
            &[&grace.as_secs_f64()],
        )
        .await?;
    let mut swept = platform::events::Republished::default();
    for row in rows {
        let id: Uuid = row.get("id");
        swept.record("published translation", id, announce_one(platform, &conn, id).await);
    }
    Ok(swept)
}

/// The code block of a question and its language hint: the first fenced block, else the whole question.
pub fn code_block(question: &str) -> (String, String) {
    if let Some(start) = question.find("```") {
        let rest = &question[start + 3..];
        let (hint, body) = rest.split_once('\n').unwrap_or(("", rest));
        let code = body.split("```").next().unwrap_or(body);
        return (code.trim_end().to_string(), hint.trim().to_string());
    }
    (question.trim().to_string(), String::new())
}

/// The question without its code block: what the description message repeats in words.
fn prose(question: &str) -> String {
    match (question.find("```"), question.rfind("```")) {
        (Some(a), Some(b)) if b > a => {
            format!("{} {}", question[..a].trim(), question[b + 3..].trim()).trim().to_string()
        }
        _ => String::new(),
    }
}

/// The stored code image of the translation, drawn and stored the first time its code is published.
async fn code_image_url(platform: &Platform, conn: &Connection, t: &Translation) -> Result<String, Stop> {
    let (code, hint) = code_block(&t.question);
    let hint = if hint.is_empty() { t.topic.to_lowercase() } else { hint };
    let sha = hex::encode(Sha256::digest(format!("{hint}\n{code}").as_bytes()));
    let language = t.language.as_str();
    let stored = conn
        .query_opt(
            "SELECT s3_key FROM telegram_code_images WHERE task_id = $1 AND language = $2 AND content_sha256 = $3",
            &[&t.task_id, &language, &sha],
        )
        .await?;
    let key = match stored {
        Some(row) => row.get("s3_key"),
        None => {
            let image = tokio::task::spawn_blocking(move || media::render_code_image(&code, &hint))
                .await
                .map_err(|e| JobError::new(format!("drawing the code image stopped: {e}")))?
                .map_err(|e| JobError::new(format!("cannot draw the code image: {e}")))?;
            let key = keys::code_image(&sha);
            platform.storage.put(&key, image.png, "image/png").await?;
            conn.execute(
                "INSERT INTO telegram_code_images (task_id, language, content_sha256, s3_key) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&t.task_id, &language, &sha, &key],
            )
            .await?;
            key
        }
    };
    Ok(platform.storage.public_url(&key))
}

fn difficulty_label(difficulty: Difficulty, speech: Speech) -> &'static str {
    match difficulty {
        Difficulty::Easy => speech.pick("easy", "лёгкая"),
        Difficulty::Medium => speech.pick("medium", "средняя"),
        Difficulty::Hard => speech.pick("hard", "сложная"),
    }
}

/// The second message: topic, subtopic and difficulty, then what the question says besides its code.
fn description(t: &Translation) -> String {
    let speech = Speech::of(&t.language);
    let mut text = format!("📚 {}", t.topic);
    if let Some(subtopic) = &t.subtopic {
        text.push_str(&format!(" · {subtopic}"));
    }
    text.push_str(&format!("\n{}: {}", speech.pick("Difficulty", "Сложность"), difficulty_label(t.difficulty, speech)));
    let words = prose(&t.question);
    if !words.is_empty() {
        text.push_str("\n\n");
        text.push_str(&truncate(&words, 1000));
    }
    text
}

/// The poll's options as indexes into the stored options, shuffled, then "I don't know" (`None`) when Telegram's
/// limit leaves room for it.
pub fn poll_order(options: usize, random: &mut impl FnMut() -> u32) -> Vec<Option<i16>> {
    let mut order: Vec<Option<i16>> = (0..options.min(POLL_MAX_OPTIONS) as i16).map(Some).collect();
    for i in (1..order.len()).rev() {
        let j = random() as usize % (i + 1);
        order.swap(i, j);
    }
    if order.len() < POLL_MAX_OPTIONS {
        order.push(None);
    }
    order
}

fn random_source() -> impl FnMut() -> u32 {
    || {
        let mut bytes = [0u8; 4];
        // Without the system's randomness the order is still a valid poll, only not shuffled.
        let _ = getrandom::fill(&mut bytes);
        u32::from_le_bytes(bytes)
    }
}

fn poll(t: &Translation, order: &[Option<i16>]) -> SendPollParams {
    let speech = Speech::of(&t.language);
    let options: Vec<InputPollOption> = order
        .iter()
        .map(|index| {
            let text = match index {
                Some(i) => truncate(&t.options[*i as usize], POLL_OPTION_CHARS),
                None => crate::quiz::dont_know_label(&t.language).to_string(),
            };
            InputPollOption::builder().text(text).build()
        })
        .collect();
    let correct = order.iter().position(|i| *i == Some(t.correct_index)).unwrap_or(0) as u8;
    let question = speech.pick("What is the right answer?", "Какой ответ правильный?");
    SendPollParams::builder()
        .chat_id(t.chat_id)
        .question(truncate(question, POLL_QUESTION_CHARS))
        .options(options)
        // Not anonymous: every vote arrives as a `poll_answer` and counts as the voter's attempt.
        .is_anonymous(false)
        .type_field(PollType::Quiz)
        .correct_option_ids(vec![correct])
        .maybe_explanation(t.explanation.as_deref().map(|e| truncate(e, POLL_EXPLANATION_CHARS)))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_block_and_its_language_hint_are_found() {
        let (code, hint) = code_block("What does this print?\n```python\nprint(1 + 1)\n```\nPick one.");
        assert_eq!((code.as_str(), hint.as_str()), ("print(1 + 1)", "python"));
        assert_eq!(
            prose("What does this print?\n```python\nprint(1 + 1)\n```\nPick one."),
            "What does this print? Pick one."
        );
        assert_eq!(code_block("no code at all").0, "no code at all");
    }

    #[test]
    fn a_poll_order_is_a_permutation_with_i_dont_know_last() {
        let mut n = 7u32;
        let mut random = move || {
            n = n.wrapping_mul(1_103_515_245).wrapping_add(12345);
            n >> 8
        };
        let order = poll_order(4, &mut random);
        assert_eq!(order.len(), 5);
        assert_eq!(order[4], None);
        let mut seen: Vec<i16> = order.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, [0, 1, 2, 3]);
        // Ten options fill Telegram's limit: no room for "I don't know".
        assert!(poll_order(10, &mut random).iter().all(Option::is_some));
    }

    #[test]
    fn the_poll_marks_the_correct_option_where_the_shuffle_put_it() {
        let t = Translation {
            task_id: 1,
            language: Language::english(),
            chat_id: -100,
            state: State::Pending,
            question: "q".into(),
            options: vec!["a".into(), "b".into(), "c".into()],
            correct_index: 2,
            explanation: Some("because".into()),
            difficulty: Difficulty::Easy,
            topic: "Python".into(),
            subtopic: None,
            link: None,
        };
        let params = poll(&t, &[Some(2), Some(0), Some(1), None]);
        assert_eq!(params.correct_option_ids, Some(vec![0]));
        assert_eq!(params.is_anonymous, Some(false));
        let texts: Vec<_> = params.options.iter().map(|o| o.text.clone().unwrap_or_default()).collect();
        assert_eq!(texts, ["c", "a", "b", "I don't know"]);
    }
}
