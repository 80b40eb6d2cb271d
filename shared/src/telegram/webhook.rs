//! `POST /api/v1/telegram/webhook`: every update Telegram sends the bot.
//!
//! Only a request carrying the configured secret in `X-Telegram-Bot-Api-Secret-Token` is read. Each update is
//! recorded by its `update_id` before it is handled, so a second delivery of the same update has no effect; if
//! handling fails, the record is removed again and the error answer makes Telegram deliver the update later.
//! What the bot answers in a chat is one Bot API call; anything slower (importing a bank, publishing) is a job.

use std::time::Duration;

use frankenstein::methods::SendMessageParams;
use frankenstein::types::{
    ChatMember, ChatMemberUpdated, ChatType, Document, InlineKeyboardButton, InlineKeyboardMarkup, Message, PollAnswer, ReplyMarkup,
    WebAppInfo,
};
use frankenstein::updates::{Update, UpdateContent};
use serde::Serialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::bot::{BotError, MAX_DOWNLOAD_BYTES};
use super::publish::{self, Selection};
use super::{Speech, account};
use crate::http::{ApiError, ApiRequest, ApiResponse};
use crate::identity::{self, telegram::TelegramUser};
use crate::jobs::{JobEnvelope, JobKind};
use crate::platform::Platform;
use crate::quiz::{Language, answers, catalogue, stats};

/// The header Telegram sends `setWebhook`'s `secret_token` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// How many support messages one user may send an hour, as with feedback from the web.
const SUPPORT_PER_HOUR: u64 = 10;

impl From<BotError> for ApiError {
    fn from(e: BotError) -> Self {
        tracing::warn!(error = %e, "a Bot API call failed");
        ApiError::unavailable("Telegram")
    }
}

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

/// The route.
pub async fn route(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let expected = platform.config.telegram.webhook_secret.as_bytes();
    let given = request.header(SECRET_HEADER).unwrap_or_default().as_bytes();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        return Err(ApiError::unauthorized("the X-Telegram-Bot-Api-Secret-Token header is missing or wrong"));
    }
    let raw: serde_json::Value = request.json()?;
    let update_id = raw.get("update_id").and_then(serde_json::Value::as_i64).ok_or_else(|| {
        ApiError::bad_request("validation_failed", "an update needs a numeric `update_id`").with_field("update_id", "must be a number")
    })?;
    let kind = raw.as_object().and_then(|o| o.keys().find(|k| *k != "update_id")).map_or("empty", String::as_str).to_string();

    let conn = platform.db.connection().await?;
    let fresh = conn
        .execute("INSERT INTO telegram_updates (update_id, kind) VALUES ($1, $2) ON CONFLICT (update_id) DO NOTHING", &[&update_id, &kind])
        .await?
        == 1;
    if !fresh {
        tracing::info!(update_id, kind, "a second delivery of an update: ignored");
        return Ok(ApiResponse::ok(&serde_json::json!({ "update_id": update_id, "duplicate": true })));
    }
    if update_id % 256 == 0 {
        // Telegram redelivers for a day at most: a week of ids is plenty, and this keeps the table small.
        conn.execute("DELETE FROM telegram_updates WHERE received_at < now() - interval '7 days'", &[]).await?;
    }
    drop(conn);

    match handle(platform, update_id, raw).await {
        Ok(handled) => {
            tracing::info!(update_id, kind, ?handled, "update handled");
            Ok(ApiResponse::ok(&serde_json::json!({ "update_id": update_id, "duplicate": false, "handled": handled })))
        }
        Err(e) => {
            // Forget the update, so Telegram's next delivery of it is handled.
            if let Ok(conn) = platform.db.connection().await {
                let _ = conn.execute("DELETE FROM telegram_updates WHERE update_id = $1", &[&update_id]).await;
            }
            Err(e)
        }
    }
}

async fn handle(platform: &Platform, update_id: i64, raw: serde_json::Value) -> Result<Handled, ApiError> {
    let update: Update = match serde_json::from_value(raw) {
        Ok(update) => update,
        Err(e) => {
            // A kind of update newer than the crate's types, or one this bot never asked for.
            tracing::info!(update_id, error = %e, "update ignored: not a kind this bot reads");
            return Ok(Handled::Ignored);
        }
    };
    match update.content {
        UpdateContent::Message(message) => on_message(platform, update_id, &message).await,
        UpdateContent::PollAnswer(answer) => on_poll_answer(platform, &answer).await,
        UpdateContent::ChatMember(change) => on_chat_member(platform, &change).await,
        other => {
            tracing::info!(update_id, kind = ?std::mem::discriminant(&other), "update ignored");
            Ok(Handled::Ignored)
        }
    }
}

/// A message to the bot in a private chat: a command, a support message, or a document.
async fn on_message(platform: &Platform, update_id: i64, message: &Message) -> Result<Handled, ApiError> {
    if message.chat.type_field != ChatType::Private {
        return Ok(Handled::Ignored);
    }
    let Some(sender) = message.from.as_deref().and_then(account) else { return Ok(Handled::Ignored) };
    let chat = Chat { id: message.chat.id, speech: Speech::of(&language_of(&sender)) };
    if let Some(document) = &message.document {
        return on_document(platform, update_id, &chat, &sender, document).await;
    }
    let Some(text) = message.text.as_deref().map(str::trim) else { return Ok(Handled::Ignored) };
    let (command, argument) = match text.split_once(char::is_whitespace) {
        Some((command, rest)) => (command, rest.trim()),
        None => (text, ""),
    };
    // `/start@quiz_bot` in a group names the bot; in a private chat the suffix is harmless.
    let command = command.split('@').next().unwrap_or(command).to_lowercase();
    match command.as_str() {
        "/start" => on_start(platform, &chat, &sender, argument).await,
        "/stats" => on_stats(platform, &chat, &sender).await,
        "/help" => {
            chat.say(platform, chat.speech.pick(HELP_EN, HELP_RU)).await?;
            Ok(Handled::Help)
        }
        "/support" | "support" => on_support(platform, &chat, &sender, argument).await,
        "/publish" => on_publish(platform, &chat, &sender, argument).await,
        _ => Ok(Handled::Ignored),
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
    async fn say(&self, platform: &Platform, text: &str) -> Result<(), BotError> {
        send_text(platform, self.id, text, None).await.map(|_| ())
    }
}

/// Sends a text message; answers its message id.
pub(crate) async fn send_text(platform: &Platform, chat_id: i64, text: &str, markup: Option<InlineKeyboardMarkup>) -> Result<i32, BotError> {
    let params = SendMessageParams::builder()
        .chat_id(chat_id)
        .text(truncate(text, 4096))
        .maybe_reply_markup(markup.map(ReplyMarkup::InlineKeyboardMarkup))
        .build();
    let sent: Message = platform.bot().call("sendMessage", &params).await?;
    Ok(sent.message_id)
}

/// At most `max` characters, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
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
    let row = conn.query_opt("SELECT is_admin AND deactivated_at IS NULL FROM users WHERE telegram_id = $1", &[&sender.id]).await?;
    Ok(row.is_some_and(|r| r.get(0)))
}

/// A deep-link parameter as Telegram allows it (`A-Z a-z 0-9 _ -`, at most 64), passed on to the Mini App.
fn start_parameter(argument: &str) -> Option<&str> {
    let ok = !argument.is_empty() && argument.len() <= 64 && argument.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(argument)
}

/// `/start [parameter]`: registers the user (or refreshes them) and answers with the button that opens the Mini
/// App, on the page the parameter names (`topic_<id>`).
async fn on_start(platform: &Platform, chat: &Chat, sender: &TelegramUser, argument: &str) -> Result<Handled, ApiError> {
    if user_of(platform, sender).await?.is_none() {
        chat.say(platform, chat.speech.pick("This account is deactivated.", "Эта учётная запись отключена.")).await?;
        return Ok(Handled::Start);
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
    send_text(platform, chat.id, &format!("{}, {welcome}", sender.first_name), Some(markup)).await?;
    Ok(Handled::Start)
}

/// `/stats`: the personal statistics of DOMAIN §3, as a message.
async fn on_stats(platform: &Platform, chat: &Chat, sender: &TelegramUser) -> Result<Handled, ApiError> {
    let Some(user_id) = user_of(platform, sender).await? else { return Ok(Handled::Ignored) };
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
    chat.say(platform, &text).await?;
    Ok(Handled::Stats)
}

/// `support <message>`: stored as feedback from the user, as the web's feedback form stores it.
async fn on_support(platform: &Platform, chat: &Chat, sender: &TelegramUser, message: &str) -> Result<Handled, ApiError> {
    let length = message.chars().count();
    if !(3..=5000).contains(&length) {
        chat.say(platform, chat.speech.pick("Write your message after the word: support <your message> (3 to 5000 characters).", "Напишите сообщение после слова: support <сообщение> (от 3 до 5000 символов).")).await?;
        return Ok(Handled::SupportRefused);
    }
    let Some(user_id) = user_of(platform, sender).await? else { return Ok(Handled::Ignored) };
    if !platform.cache.within_limit(&format!("feedback:{user_id}"), SUPPORT_PER_HOUR, Duration::from_secs(3600)).await {
        chat.say(platform, chat.speech.pick("That is a lot of messages for one hour; please write again later.", "Слишком много сообщений за час; напишите позже.")).await?;
        return Ok(Handled::SupportRefused);
    }
    let conn = platform.db.connection().await?;
    conn.execute("INSERT INTO feedback (id, user_id, category, message) VALUES ($1, $2, 'other', $3)", &[&Uuid::new_v4(), &user_id, &message])
        .await?;
    drop(conn);
    chat.say(platform, chat.speech.pick("Thank you! Your message has reached us.", "Спасибо! Ваше сообщение получено.")).await?;
    Ok(Handled::SupportStored)
}

/// A document from an admin: a question bank, imported by the `import-telegram-document` job, which reports back
/// in this chat.
async fn on_document(platform: &Platform, update_id: i64, chat: &Chat, sender: &TelegramUser, document: &Document) -> Result<Handled, ApiError> {
    if !is_admin(platform, sender).await? {
        chat.say(platform, chat.speech.pick("Only administrators can import question banks.", "Импортировать банки вопросов могут только администраторы.")).await?;
        return Ok(Handled::ImportRefused);
    }
    let name = document.file_name.clone().unwrap_or_else(|| "document".into());
    let is_json = document.mime_type.as_deref() == Some("application/json") || name.to_lowercase().ends_with(".json");
    if !is_json {
        chat.say(platform, chat.speech.pick("Send the question bank as a .json file.", "Пришлите банк вопросов файлом .json.")).await?;
        return Ok(Handled::ImportRefused);
    }
    if document.file_size.is_some_and(|size| size > MAX_DOWNLOAD_BYTES as u64) {
        chat.say(platform, &format!("{} {} MiB.", chat.speech.pick("The file is too large; the limit is", "Файл слишком большой; предел —"), MAX_DOWNLOAD_BYTES >> 20)).await?;
        return Ok(Handled::ImportRefused);
    }
    let job_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("telegram-update:{update_id}").as_bytes());
    let payload = super::documents::ImportDocument { chat_id: chat.id, file_id: document.file_id.clone(), file_name: name.clone() };
    let job = JobEnvelope::with_id(JobKind::ImportTelegramDocument, job_id, serde_json::to_value(&payload).map_err(ApiError::internal)?);
    platform.jobs.enqueue(&job).await.map_err(|e| {
        tracing::warn!(error = %e, "could not enqueue an import");
        ApiError::unavailable("the job queue")
    })?;
    chat.say(platform, &format!("{} {name}…", chat.speech.pick("Importing", "Импортирую"))).await?;
    Ok(Handled::ImportQueued)
}

/// `/publish <task id>` or `/publish next`, for admins: the bot's way to what the admin route does.
async fn on_publish(platform: &Platform, chat: &Chat, sender: &TelegramUser, argument: &str) -> Result<Handled, ApiError> {
    if !is_admin(platform, sender).await? {
        chat.say(platform, chat.speech.pick("Only administrators can publish.", "Публиковать могут только администраторы.")).await?;
        return Ok(Handled::PublishRefused);
    }
    let selection = match argument {
        "next" => Selection::NextOfEveryTopic,
        id => match id.parse::<i64>() {
            Ok(task_id) if task_id > 0 => Selection::Task(task_id),
            _ => {
                chat.say(platform, "/publish <task id> | /publish next").await?;
                return Ok(Handled::PublishRefused);
            }
        },
    };
    let plan = match publish::plan(platform, selection).await {
        Ok(plan) => plan,
        Err(e) if e.status.is_client_error() => {
            chat.say(platform, &e.message).await?;
            return Ok(Handled::PublishRefused);
        }
        Err(e) => return Err(e),
    };
    chat.say(platform, &plan.summary()).await?;
    Ok(Handled::PublishQueued)
}

/// A vote in a published quiz poll: an attempt by that Telegram user, scored through the option order the poll
/// was sent with.
async fn on_poll_answer(platform: &Platform, answer: &PollAnswer) -> Result<Handled, ApiError> {
    let Some(voter) = answer.user.as_deref().and_then(account) else { return Ok(Handled::Ignored) };
    let conn = platform.db.connection().await?;
    let publication = conn
        .query_opt("SELECT task_id, language, option_order FROM telegram_publications WHERE poll_id = $1", &[&answer.poll_id])
        .await?;
    drop(conn);
    let Some(row) = publication else {
        tracing::info!(poll_id = answer.poll_id, "an answer to a poll this bot did not publish");
        return Ok(Handled::Ignored);
    };
    let Some(&option) = answer.option_ids.first() else { return Ok(Handled::VoteRetracted) };
    let (task_id, language, order): (i64, String, Vec<Option<i16>>) = (row.get(0), row.get(1), row.get(2));
    let Some(&chosen) = order.get(usize::from(option)) else {
        tracing::warn!(poll_id = answer.poll_id, option, "a poll answer names an option the poll did not have");
        return Ok(Handled::Ignored);
    };
    let language = Language::parse(&language).unwrap_or_else(Language::english);
    let Some(task) = catalogue::published_task(platform, task_id, &language).await? else {
        tracing::info!(task_id, "an answer to the poll of a task no longer published");
        return Ok(Handled::Ignored);
    };
    let Some(user_id) = user_of(platform, &voter).await? else { return Ok(Handled::Ignored) };
    let recorded = answers::record(platform, user_id, &task, &language, chosen).await?;
    tracing::info!(task_id, user_id, correct = recorded.correct, counted = recorded.counted, "poll answer recorded");
    Ok(Handled::AnswerRecorded)
}

/// Someone joined or left a chat the bot administers: the channel's members are kept current.
async fn on_chat_member(platform: &Platform, change: &ChatMemberUpdated) -> Result<Handled, ApiError> {
    let (user, status, subscribed) = match &change.new_chat_member {
        ChatMember::Creator(m) => (&m.user, "creator", true),
        ChatMember::Administrator(m) => (&m.user, "administrator", true),
        ChatMember::Member(m) => (&m.user, "member", true),
        ChatMember::Restricted(m) => (&m.user, "restricted", m.is_member),
        ChatMember::Left(m) => (&m.user, "left", false),
        ChatMember::Kicked(m) => (&m.user, "kicked", false),
    };
    let Ok(telegram_id) = i64::try_from(user.id) else { return Ok(Handled::Ignored) };
    let conn = platform.db.connection().await?;
    conn.execute(
        "INSERT INTO telegram_channel_members (chat_id, telegram_id, status, subscribed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (chat_id, telegram_id) DO UPDATE
             SET status = EXCLUDED.status, subscribed = EXCLUDED.subscribed, updated_at = now()",
        &[&change.chat.id, &telegram_id, &status, &subscribed],
    )
    .await?;
    Ok(Handled::Membership)
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
        let mut user = TelegramUser { id: 1, first_name: "A".into(), last_name: None, username: None, photo_url: None, language_code: Some("pt-br".into()) };
        assert_eq!(language_of(&user).as_str(), "pt");
        user.language_code = None;
        assert_eq!(language_of(&user).as_str(), "en");
    }

    #[test]
    fn every_kind_of_update_the_bot_reads_parses_with_the_crates_types() {
        let message = serde_json::json!({"update_id": 1, "message": {"message_id": 5, "date": 1795662000,
            "chat": {"id": 42, "type": "private", "first_name": "Ada"},
            "from": {"id": 42, "is_bot": false, "first_name": "Ada", "language_code": "en", "some_future_field": true},
            "text": "/start topic_3", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}});
        assert!(matches!(serde_json::from_value::<Update>(message).unwrap().content, UpdateContent::Message(_)));
        let answer = serde_json::json!({"update_id": 2, "poll_answer": {"poll_id": "p1",
            "user": {"id": 42, "is_bot": false, "first_name": "Ada"}, "option_ids": [1], "option_persistent_ids": ["b"]}});
        assert!(matches!(serde_json::from_value::<Update>(answer).unwrap().content, UpdateContent::PollAnswer(_)));
    }
}
