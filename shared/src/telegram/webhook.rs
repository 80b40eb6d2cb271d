//! `POST /api/v1/telegram/webhook`: every update Telegram sends the bot.
//!
//! Only a request carrying the configured secret in `X-Telegram-Bot-Api-Secret-Token` is read.
//!
//! An update's effect happens once; only its reply may be retried. Handling an update first decides, reading only,
//! what the update does ([`Decision`]): its effect on the database, the jobs it starts, the message it answers.
//! Then one transaction records the update by its `update_id` (in `telegram_updates`), applies the effect, and
//! stores the jobs and the reply still to go out; only after that commit are the jobs enqueued and the reply sent,
//! each marked done on the update's row as it succeeds. A redelivery of an update that has a row never runs the
//! effect again: it finishes what the row says is left (the jobs, if they never left; the reply, if it never went
//! out) and answers `"duplicate": true`. So when the Bot API fails the reply, the answer is 503, Telegram
//! delivers the update again, and the redelivery sends the reply, not a second feedback row or publication.
//! Two deliveries at the same time are kept apart by the row's key: the second transaction waits for the first
//! and then finds the row.
//!
//! Effects the webhook leaves to other modules run before the transaction, and are idempotent on their own: the
//! user of a Telegram account is created or refreshed by its Telegram id, and a poll answer is recorded as the
//! voter's attempt, of which only the first counts.
//!
//! What the bot answers in a chat is one Bot API call; anything slower (importing a bank, publishing) is a job.

use std::time::Duration;

use frankenstein::methods::SendMessageParams;
use frankenstein::types::{
    Chat as TelegramChat, ChatMember, ChatMemberUpdated, ChatType, Document, InlineKeyboardButton,
    InlineKeyboardMarkup, PollAnswer, ReplyMarkup, User, WebAppInfo,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::publish::{self, Selection};
use super::{Speech, account};
use crate::identity::{self, telegram::TelegramUser};
use crate::quiz::{Language, answers, catalogue, stats};
use platform::Platform;
use platform::bot::{BotError, MAX_DOWNLOAD_BYTES, truncate};
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::jobs::JobEnvelope;

/// The header Telegram sends `setWebhook`'s `secret_token` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// How many support messages one user may send an hour, as with feedback from the web.
const SUPPORT_PER_HOUR: u64 = 10;

/// What the webhook did with an update; the answer's `handled` field, and the log's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Handled {
    Start,
    Stats,
    Help,
    SupportStored,
    SupportRefused,
    ImportQueued,
    ImportRefused,
    PublishQueued,
    PublishRefused,
    AnswerRecorded,
    VoteRetracted,
    Membership,
    Ignored,
}

/// What to do once the update's row has committed.
struct Pending {
    jobs: Vec<JobEnvelope>,
    jobs_enqueued: bool,
    reply: Option<serde_json::Value>,
    replied: bool,
}

/// The route.
pub async fn route(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let expected = platform.config.telegram.webhook_secret.as_bytes();
    let given = request.header(SECRET_HEADER).unwrap_or_default().as_bytes();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        return Err(ApiError::unauthorized("the X-Telegram-Bot-Api-Secret-Token header is missing or wrong"));
    }
    // A NUL in a name or a message becomes U+FFFD rather than a 400: Telegram would only deliver the update again.
    let raw: serde_json::Value = request.json_replacing_nul()?;
    let update_id = raw.get("update_id").and_then(serde_json::Value::as_i64).ok_or_else(|| {
        ApiError::bad_request("validation_failed", "an update needs a numeric `update_id`")
            .with_field("update_id", "must be a number")
    })?;
    let kind =
        raw.as_object().and_then(|o| o.keys().find(|k| *k != "update_id")).map_or("empty", String::as_str).to_string();

    if let Some(pending) = recorded(platform, update_id).await? {
        tracing::info!(update_id, kind, "a second delivery of an update: its effect is not repeated");
        finish(platform, update_id, pending).await?;
        return Ok(duplicate(update_id));
    }
    if update_id % 256 == 0 {
        // Telegram redelivers for a day at most: a week of ids is plenty, and this keeps the table small.
        let conn = platform.db.connection().await?;
        conn.execute("DELETE FROM telegram_updates WHERE received_at < now() - interval '7 days'", &[]).await?;
    }
    let decision = handle(platform, update_id, raw).await?;
    let Some((handled, pending)) = commit(platform, update_id, &kind, decision).await? else {
        // Another delivery of the update committed first, while this one was deciding: it finishes the update.
        tracing::info!(update_id, kind, "a concurrent delivery of an update: its effect is not repeated");
        return Ok(duplicate(update_id));
    };
    finish(platform, update_id, pending).await?;
    tracing::info!(update_id, kind, ?handled, "update handled");
    Ok(ApiResponse::ok(&serde_json::json!({ "update_id": update_id, "duplicate": false, "handled": handled })))
}

fn duplicate(update_id: i64) -> ApiResponse {
    ApiResponse::ok(&serde_json::json!({ "update_id": update_id, "duplicate": true }))
}

/// What is left to do for an update handled before, or `None` when it has no row.
async fn recorded(platform: &Platform, update_id: i64) -> Result<Option<Pending>, ApiError> {
    let conn = platform.db.connection().await?;
    let row = conn
        .query_opt(
            "SELECT jobs, jobs_enqueued_at IS NOT NULL AS jobs_enqueued, reply, replied_at IS NOT NULL AS replied
               FROM telegram_updates WHERE update_id = $1",
            &[&update_id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let jobs: Option<serde_json::Value> = row.get("jobs");
    let jobs = match jobs {
        Some(jobs) => serde_json::from_value(jobs).map_err(ApiError::internal)?,
        None => Vec::new(),
    };
    Ok(Some(Pending {
        jobs,
        jobs_enqueued: row.get("jobs_enqueued"),
        reply: row.get("reply"),
        replied: row.get("replied"),
    }))
}

/// Records the update, applies its effect and stores what is left to do, in one transaction. `None` when the
/// update has a row already (a concurrent delivery committed it first): then nothing was applied.
async fn commit(
    platform: &Platform,
    update_id: i64,
    kind: &str,
    decision: Decision,
) -> Result<Option<(Handled, Pending)>, ApiError> {
    let Decision { mut handled, effect, mut reply, mut jobs } = decision;
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    // First, so that a second delivery's transaction waits here for this one, and then finds the row.
    let fresh = tx
        .execute(
            "INSERT INTO telegram_updates (update_id, kind) VALUES ($1, $2) ON CONFLICT (update_id) DO NOTHING",
            &[&update_id, &kind],
        )
        .await?
        == 1;
    if !fresh {
        return Ok(None);
    }
    match effect {
        Effect::None => {}
        Effect::Feedback { user_id, message } => {
            tx.execute(
                "INSERT INTO feedback (id, user_id, category, message) VALUES ($1, $2, 'other', $3)",
                &[&Uuid::new_v4(), &user_id, &message],
            )
            .await?;
        }
        Effect::Membership { chat_id, telegram_id, status, subscribed } => {
            tx.execute(
                "INSERT INTO telegram_channel_members (chat_id, telegram_id, status, subscribed) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (chat_id, telegram_id) DO UPDATE
                     SET status = EXCLUDED.status, subscribed = EXCLUDED.subscribed, updated_at = now()",
                &[&chat_id, &telegram_id, &status, &subscribed],
            )
            .await?;
        }
        Effect::Publish { chat_id, selection } => match publish::record_plan(&tx, selection).await {
            Ok(plan) => {
                jobs.extend(plan.jobs().map_err(ApiError::internal)?);
                reply = Some(message_params(chat_id, &plan.summary(), None)?);
            }
            Err(e) if e.status.is_client_error() => {
                handled = Handled::PublishRefused;
                reply = Some(message_params(chat_id, &e.message, None)?);
            }
            Err(e) => return Err(e),
        },
    }
    let stored_jobs =
        if jobs.is_empty() { None } else { Some(serde_json::to_value(&jobs).map_err(ApiError::internal)?) };
    let handled_name = serde_json::to_value(handled).map_err(ApiError::internal)?;
    tx.execute(
        "UPDATE telegram_updates SET handled = $2, jobs = $3, reply = $4 WHERE update_id = $1",
        &[&update_id, &handled_name.as_str(), &stored_jobs, &reply],
    )
    .await?;
    tx.commit().await?;
    Ok(Some((handled, Pending { jobs, jobs_enqueued: false, reply, replied: false })))
}

/// Enqueues the update's jobs and sends its reply, unless that was done before, marking each on the update's
/// row. A failure answers 503, so Telegram delivers the update again and the redelivery finishes it.
async fn finish(platform: &Platform, update_id: i64, pending: Pending) -> Result<(), ApiError> {
    if !pending.jobs.is_empty() && !pending.jobs_enqueued {
        for job in &pending.jobs {
            platform.jobs.enqueue(job).await.map_err(|e| {
                tracing::warn!(update_id, error = %e, "could not enqueue an update's job; Telegram's redelivery tries again");
                ApiError::unavailable("the job queue")
            })?;
        }
        mark(platform, update_id, "UPDATE telegram_updates SET jobs_enqueued_at = now() WHERE update_id = $1", None)
            .await;
    }
    let Some(reply) = pending.reply.filter(|_| !pending.replied) else { return Ok(()) };
    match platform.bot().call::<_, platform::bot::Sent>("sendMessage", &reply).await {
        Ok(_) => {
            mark(platform, update_id, "UPDATE telegram_updates SET replied_at = now() WHERE update_id = $1", None).await
        }
        Err(e @ BotError::Refused { .. }) => {
            // The user blocked the bot, or the chat is gone: sending again would be refused again.
            tracing::warn!(update_id, error = %e, "Telegram refused the reply; it is not sent again");
            let sql = "UPDATE telegram_updates SET replied_at = now(), reply_error = $2 WHERE update_id = $1";
            mark(platform, update_id, sql, Some(&e.to_string())).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Records that one step after the commit is done. What it did stays done if this fails: the webhook still
/// answers 200, so Telegram does not deliver the update again for a step that went through.
async fn mark(platform: &Platform, update_id: i64, sql: &str, error: Option<&str>) {
    let marked = async {
        let conn = platform.db.connection().await?;
        match error {
            Some(error) => conn.execute(sql, &[&update_id, &error]).await,
            None => conn.execute(sql, &[&update_id]).await,
        }
    };
    if let Err(e) = marked.await {
        tracing::warn!(update_id, error = %e, "could not record a finished step of an update");
    }
}

/// What an update does, decided before anything is written: applied by [`commit`].
struct Decision {
    handled: Handled,
    effect: Effect,
    /// `sendMessage` parameters.
    reply: Option<serde_json::Value>,
    jobs: Vec<JobEnvelope>,
}

impl Decision {
    fn new(handled: Handled) -> Self {
        Decision { handled, effect: Effect::None, reply: None, jobs: Vec::new() }
    }

    fn effect(mut self, effect: Effect) -> Self {
        self.effect = effect;
        self
    }

    fn job(mut self, job: JobEnvelope) -> Self {
        self.jobs.push(job);
        self
    }

    fn reply(mut self, chat_id: i64, text: &str, markup: Option<InlineKeyboardMarkup>) -> Result<Self, ApiError> {
        self.reply = Some(message_params(chat_id, text, markup)?);
        Ok(self)
    }
}

/// An update's effect on the database, applied in the transaction that records the update.
enum Effect {
    None,
    /// A support message, stored as feedback.
    Feedback {
        user_id: i64,
        message: String,
    },
    /// A channel member's new status.
    Membership {
        chat_id: i64,
        telegram_id: i64,
        status: &'static str,
        subscribed: bool,
    },
    /// `/publish`: the publications, recorded; their jobs and the admin's answer follow from them.
    Publish {
        chat_id: i64,
        selection: Selection,
    },
}

/// The parameters of a text message, as stored for the reply.
fn message_params(
    chat_id: i64,
    text: &str,
    markup: Option<InlineKeyboardMarkup>,
) -> Result<serde_json::Value, ApiError> {
    let params = SendMessageParams::builder()
        .chat_id(chat_id)
        .text(truncate(text, 4096))
        .maybe_reply_markup(markup.map(ReplyMarkup::InlineKeyboardMarkup))
        .build();
    serde_json::to_value(&params).map_err(ApiError::internal)
}

/// What the bot reads of an update: the three kinds it handles, in Telegram's types, except that of a message
/// only the chat, the sender, the text and a document are read. (frankenstein's `Update` reads every field of
/// every kind of message, a megabyte of this function's binary that nothing here looked at.) Fields and kinds
/// it does not name are skipped.
#[derive(Debug, Deserialize)]
struct Update {
    message: Option<Message>,
    poll_answer: Option<PollAnswer>,
    chat_member: Option<ChatMemberUpdated>,
}

#[derive(Debug, Deserialize)]
struct Message {
    chat: TelegramChat,
    from: Option<User>,
    text: Option<String>,
    document: Option<Document>,
}

async fn handle(platform: &Platform, update_id: i64, raw: serde_json::Value) -> Result<Decision, ApiError> {
    let update: Update = match serde_json::from_value(raw) {
        Ok(update) => update,
        Err(e) => {
            // A kind this bot reads, in a shape it does not.
            tracing::info!(update_id, error = %e, "update ignored: unreadable");
            return Ok(Decision::new(Handled::Ignored));
        }
    };
    if let Some(message) = &update.message {
        return on_message(platform, update_id, message).await;
    }
    if let Some(answer) = &update.poll_answer {
        return on_poll_answer(platform, answer).await;
    }
    if let Some(change) = &update.chat_member {
        return on_chat_member(change);
    }
    tracing::info!(update_id, "update ignored: not a kind this bot reads");
    Ok(Decision::new(Handled::Ignored))
}

/// A message to the bot in a private chat: a command, a support message, or a document.
async fn on_message(platform: &Platform, update_id: i64, message: &Message) -> Result<Decision, ApiError> {
    if message.chat.type_field != ChatType::Private {
        return Ok(Decision::new(Handled::Ignored));
    }
    let Some(sender) = message.from.as_ref().and_then(account) else { return Ok(Decision::new(Handled::Ignored)) };
    let chat = Chat { id: message.chat.id, speech: Speech::of(&language_of(&sender)) };
    if let Some(document) = &message.document {
        return on_document(platform, update_id, &chat, &sender, document).await;
    }
    let Some(text) = message.text.as_deref().map(str::trim) else { return Ok(Decision::new(Handled::Ignored)) };
    let (command, argument) = match text.split_once(char::is_whitespace) {
        Some((command, rest)) => (command, rest.trim()),
        None => (text, ""),
    };
    // `/start@quiz_bot` in a group names the bot; in a private chat the suffix is harmless.
    let command = command.split('@').next().unwrap_or(command).to_lowercase();
    match command.as_str() {
        "/start" => on_start(platform, &chat, &sender, argument).await,
        "/stats" => on_stats(platform, &chat, &sender).await,
        "/help" => chat.say(Handled::Help, chat.speech.pick(HELP_EN, HELP_RU)),
        "/support" | "support" => on_support(platform, &chat, &sender, argument).await,
        "/publish" => on_publish(platform, &chat, &sender, argument).await,
        _ => Ok(Decision::new(Handled::Ignored)),
    }
}

const HELP_EN: &str = "Quizzes about code.\n\n\
/start – open the quiz app\n\
/stats – your statistics\n\
/help – this message\n\
support <message> – write to us\n\n\
Admins: send a question bank as a JSON file to import it; /publish <task id> or /publish next.";
const HELP_RU: &str = "Викторины о коде.\n\n\
/start – открыть приложение\n\
/stats – ваша статистика\n\
/help – это сообщение\n\
support <сообщение> – написать нам\n\n\
Администраторам: пришлите банк вопросов файлом JSON, чтобы импортировать его; /publish <id задачи> или /publish next.";

/// A private chat with a user, and the language the bot speaks there.
struct Chat {
    id: i64,
    speech: Speech,
}

impl Chat {
    /// Answers in this chat with `text`.
    fn say(&self, handled: Handled, text: &str) -> Result<Decision, ApiError> {
        Decision::new(handled).reply(self.id, text, None)
    }
}

fn language_of(user: &TelegramUser) -> Language {
    user.language_code.as_deref().and_then(|code| Language::parse(code.get(..2)?)).unwrap_or_else(Language::english)
}

/// The user of a Telegram account, created on first contact; `None` for a deactivated account.
async fn user_of(platform: &Platform, sender: &TelegramUser) -> Result<Option<i64>, ApiError> {
    match identity::telegram_user(platform, sender).await {
        Ok((user_id, _)) => Ok(Some(user_id)),
        Err(e) if e.status == http::StatusCode::FORBIDDEN => Ok(None),
        Err(e) => Err(e),
    }
}

async fn is_admin(platform: &Platform, sender: &TelegramUser) -> Result<bool, ApiError> {
    if platform.config.identity.admin_telegram_ids.contains(&sender.id) {
        return Ok(true);
    }
    let conn = platform.db.connection().await?;
    let row = conn
        .query_opt(
            "SELECT is_admin AND deactivated_at IS NULL AS admin FROM users WHERE telegram_id = $1",
            &[&sender.id],
        )
        .await?;
    Ok(row.is_some_and(|r| r.get("admin")))
}

/// A deep-link parameter as Telegram allows it (`A-Z a-z 0-9 _ -`, at most 64), passed on to the Mini App.
fn start_parameter(argument: &str) -> Option<&str> {
    let ok = !argument.is_empty()
        && argument.len() <= 64
        && argument.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(argument)
}

/// `/start [parameter]`: registers the user (or refreshes them) and answers with the button that opens the Mini
/// App, on the page the parameter names (`topic_<id>`).
async fn on_start(
    platform: &Platform,
    chat: &Chat,
    sender: &TelegramUser,
    argument: &str,
) -> Result<Decision, ApiError> {
    if user_of(platform, sender).await?.is_none() {
        return chat
            .say(Handled::Start, chat.speech.pick("This account is deactivated.", "Эта учётная запись отключена."));
    }
    let mut url = platform.config.telegram.mini_app_url.clone();
    if let Some(parameter) = start_parameter(argument) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("startapp=");
        url.push_str(parameter);
    }
    let button = InlineKeyboardButton::builder()
        .text(chat.speech.pick("Open the quiz", "Открыть викторину"))
        .web_app(WebAppInfo { url })
        .build();
    let welcome = chat.speech.pick(
        "welcome! Test what you know about code: tap the button to start. /help lists the commands.",
        "добро пожаловать! Проверьте, что вы знаете о коде: нажмите кнопку, чтобы начать. /help — список команд.",
    );
    let markup = InlineKeyboardMarkup::builder().inline_keyboard(vec![vec![button]]).build();
    Decision::new(Handled::Start).reply(chat.id, &format!("{}, {welcome}", sender.first_name), Some(markup))
}

/// `/stats`: the personal statistics of DOMAIN §3, as a message.
async fn on_stats(platform: &Platform, chat: &Chat, sender: &TelegramUser) -> Result<Decision, ApiError> {
    let Some(user_id) = user_of(platform, sender).await? else { return Ok(Decision::new(Handled::Ignored)) };
    let language = language_of(sender);
    let s = stats::personal(platform, user_id, &language).await?;
    let ru = chat.speech == Speech::Ru;
    let accuracy = s.accuracy.map_or_else(|| "–".to_string(), |a| format!("{a} %"));
    let mut text = if ru {
        format!(
            "📊 Ваша статистика\nРейтинг: {}\nРешено: {} из {} (точность {accuracy})\nСерия: {} (лучшая {})",
            s.rating, s.solved, s.attempted, s.current_streak, s.best_streak
        )
    } else {
        format!(
            "📊 Your statistics\nRating: {}\nSolved: {} of {} (accuracy {accuracy})\nStreak: {} (best {})",
            s.rating, s.solved, s.attempted, s.current_streak, s.best_streak
        )
    };
    if let Some(topic) = &s.favourite_topic {
        text.push_str(&format!("\n{}: {}", chat.speech.pick("Favourite topic", "Любимая тема"), topic.name));
    }
    if !s.achievements.is_empty() {
        let names: Vec<&str> = s.achievements.iter().map(|a| a.code.as_str()).collect();
        text.push_str(&format!("\n{}: {}", chat.speech.pick("Achievements", "Достижения"), names.join(", ")));
    }
    chat.say(Handled::Stats, &text)
}

/// `support <message>`: stored as feedback from the user, as the web's feedback form stores it.
async fn on_support(
    platform: &Platform,
    chat: &Chat,
    sender: &TelegramUser,
    message: &str,
) -> Result<Decision, ApiError> {
    let length = message.chars().count();
    if !(3..=5000).contains(&length) {
        return chat.say(
            Handled::SupportRefused,
            chat.speech.pick(
                "Write your message after the word: support <your message> (3 to 5000 characters).",
                "Напишите сообщение после слова: support <сообщение> (от 3 до 5000 символов).",
            ),
        );
    }
    let Some(user_id) = user_of(platform, sender).await? else { return Ok(Decision::new(Handled::Ignored)) };
    if !platform.cache.within_limit(&format!("feedback:{user_id}"), SUPPORT_PER_HOUR, Duration::from_secs(3600)).await {
        return chat.say(
            Handled::SupportRefused,
            chat.speech.pick(
                "That is a lot of messages for one hour; please write again later.",
                "Слишком много сообщений за час; напишите позже.",
            ),
        );
    }
    Ok(chat
        .say(
            Handled::SupportStored,
            chat.speech.pick("Thank you! Your message has reached us.", "Спасибо! Ваше сообщение получено."),
        )?
        .effect(Effect::Feedback { user_id, message: message.to_string() }))
}

/// A document from an admin: a question bank, imported by the `import-telegram-document` job, which reports back
/// in this chat.
async fn on_document(
    platform: &Platform,
    update_id: i64,
    chat: &Chat,
    sender: &TelegramUser,
    document: &Document,
) -> Result<Decision, ApiError> {
    if !is_admin(platform, sender).await? {
        return chat.say(
            Handled::ImportRefused,
            chat.speech.pick(
                "Only administrators can import question banks.",
                "Импортировать банки вопросов могут только администраторы.",
            ),
        );
    }
    let name = document.file_name.clone().unwrap_or_else(|| "document".into());
    let is_json = document.mime_type.as_deref() == Some("application/json") || name.to_lowercase().ends_with(".json");
    if !is_json {
        return chat.say(
            Handled::ImportRefused,
            chat.speech.pick("Send the question bank as a .json file.", "Пришлите банк вопросов файлом .json."),
        );
    }
    if document.file_size.is_some_and(|size| size > MAX_DOWNLOAD_BYTES as u64) {
        return chat.say(
            Handled::ImportRefused,
            &format!(
                "{} {} MiB.",
                chat.speech.pick("The file is too large; the limit is", "Файл слишком большой; предел —"),
                MAX_DOWNLOAD_BYTES >> 20
            ),
        );
    }
    let job_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("telegram-update:{update_id}").as_bytes());
    let payload = super::documents::ImportDocument {
        chat_id: chat.id,
        file_id: document.file_id.clone(),
        file_name: name.clone(),
    };
    let job = JobEnvelope::with_id_of(job_id, &payload).map_err(ApiError::internal)?;
    // Enqueued once the update is recorded, by its id: a redelivery does not enqueue it again.
    Ok(chat.say(Handled::ImportQueued, &format!("{} {name}…", chat.speech.pick("Importing", "Импортирую")))?.job(job))
}

/// `/publish <task id>` or `/publish next`, for admins: the bot's way to what the admin route does.
async fn on_publish(
    platform: &Platform,
    chat: &Chat,
    sender: &TelegramUser,
    argument: &str,
) -> Result<Decision, ApiError> {
    if !is_admin(platform, sender).await? {
        return chat.say(
            Handled::PublishRefused,
            chat.speech.pick("Only administrators can publish.", "Публиковать могут только администраторы."),
        );
    }
    let selection = match argument {
        "next" => Selection::NextOfEveryTopic,
        id => match id.parse::<i64>() {
            Ok(task_id) if task_id > 0 => Selection::Task(task_id),
            _ => return chat.say(Handled::PublishRefused, "/publish <task id> | /publish next"),
        },
    };
    // What is published, and so what the admin is told, is decided in the transaction that records the update.
    Ok(Decision::new(Handled::PublishQueued).effect(Effect::Publish { chat_id: chat.id, selection }))
}

/// A vote in a published quiz poll: an attempt by that Telegram user, scored through the option order the poll
/// was sent with.
async fn on_poll_answer(platform: &Platform, answer: &PollAnswer) -> Result<Decision, ApiError> {
    let Some(voter) = answer.user.as_deref().and_then(account) else { return Ok(Decision::new(Handled::Ignored)) };
    let conn = platform.db.connection().await?;
    let publication = conn
        .query_opt(
            "SELECT task_id, language, option_order FROM telegram_publications WHERE poll_id = $1",
            &[&answer.poll_id],
        )
        .await?;
    let Some(row) = publication else {
        tracing::info!(poll_id = answer.poll_id, "an answer to a poll this bot did not publish");
        return Ok(Decision::new(Handled::Ignored));
    };
    let Some(&option) = answer.option_ids.first() else { return Ok(Decision::new(Handled::VoteRetracted)) };
    let (task_id, language, order): (i64, String, Vec<Option<i16>>) =
        (row.get("task_id"), row.get("language"), row.get("option_order"));
    let Some(&chosen) = order.get(usize::from(option)) else {
        tracing::warn!(poll_id = answer.poll_id, option, "a poll answer names an option the poll did not have");
        return Ok(Decision::new(Handled::Ignored));
    };
    let language = Language::parse(&language).unwrap_or_else(Language::english);
    let Some(task) = catalogue::published_task(platform, task_id, &language).await? else {
        tracing::info!(task_id, "an answer to the poll of a task no longer published");
        return Ok(Decision::new(Handled::Ignored));
    };
    let Some(user_id) = user_of(platform, &voter).await? else { return Ok(Decision::new(Handled::Ignored)) };
    let recorded = answers::record(platform, user_id, &task, &language, chosen).await?;
    tracing::info!(task_id, user_id, correct = recorded.correct, counted = recorded.counted, "poll answer recorded");
    Ok(Decision::new(Handled::AnswerRecorded))
}

/// Someone joined or left a chat the bot administers: the channel's members are kept current.
fn on_chat_member(change: &ChatMemberUpdated) -> Result<Decision, ApiError> {
    let (user, status, subscribed) = match &change.new_chat_member {
        ChatMember::Creator(m) => (&m.user, "creator", true),
        ChatMember::Administrator(m) => (&m.user, "administrator", true),
        ChatMember::Member(m) => (&m.user, "member", true),
        ChatMember::Restricted(m) => (&m.user, "restricted", m.is_member),
        ChatMember::Left(m) => (&m.user, "left", false),
        ChatMember::Kicked(m) => (&m.user, "kicked", false),
    };
    let Ok(telegram_id) = i64::try_from(user.id) else { return Ok(Decision::new(Handled::Ignored)) };
    Ok(Decision::new(Handled::Membership).effect(Effect::Membership {
        chat_id: change.chat.id,
        telegram_id,
        status,
        subscribed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_parameter_is_passed_on_only_when_telegram_would_allow_it() {
        assert_eq!(start_parameter("topic_12"), Some("topic_12"));
        assert_eq!(start_parameter(""), None);
        assert_eq!(start_parameter("topic 12"), None);
        assert_eq!(start_parameter("a&b=c"), None);
        assert_eq!(start_parameter(&"x".repeat(65)), None);
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("привет", 10), "привет");
        assert_eq!(truncate("привет", 4), "при…");
    }

    #[test]
    fn the_language_comes_from_the_first_two_letters_of_telegrams_code() {
        let mut user = TelegramUser {
            id: 1,
            first_name: "A".into(),
            last_name: None,
            username: None,
            photo_url: None,
            language_code: Some("pt-br".into()),
        };
        assert_eq!(language_of(&user).as_str(), "pt");
        user.language_code = None;
        assert_eq!(language_of(&user).as_str(), "en");
    }

    #[test]
    fn every_kind_of_update_the_bot_reads_parses_and_others_are_nothing_it_reads() {
        let message = serde_json::json!({"update_id": 1, "message": {"message_id": 5, "date": 1795662000,
            "chat": {"id": 42, "type": "private", "first_name": "Ada"},
            "from": {"id": 42, "is_bot": false, "first_name": "Ada", "language_code": "en", "some_future_field": true},
            "text": "/start topic_3", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}});
        let message = serde_json::from_value::<Update>(message).unwrap().message.unwrap();
        assert_eq!((message.chat.id, message.text.as_deref()), (42, Some("/start topic_3")));
        let answer = serde_json::json!({"update_id": 2, "poll_answer": {"poll_id": "p1",
            "user": {"id": 42, "is_bot": false, "first_name": "Ada"}, "option_ids": [1], "option_persistent_ids": ["b"]}});
        assert!(serde_json::from_value::<Update>(answer).unwrap().poll_answer.is_some());
        let ada = serde_json::json!({"id": 42, "is_bot": false, "first_name": "Ada"});
        let joined = serde_json::json!({"update_id": 3, "chat_member": {
            "chat": {"id": -100, "type": "channel", "title": "Python quizzes"}, "from": ada, "date": 1795662000,
            "old_chat_member": {"status": "left", "user": ada}, "new_chat_member": {"status": "member", "user": ada}}});
        assert!(serde_json::from_value::<Update>(joined).unwrap().chat_member.is_some());
        let edited = serde_json::json!({"update_id": 4, "edited_message": {"message_id": 5, "date": 1795662000,
            "chat": {"id": 42, "type": "private"}, "text": "changed"}});
        let edited = serde_json::from_value::<Update>(edited).unwrap();
        assert!(edited.message.is_none() && edited.poll_answer.is_none() && edited.chat_member.is_none());
    }
}
