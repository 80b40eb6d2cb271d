//! The Telegram bot (DOMAIN §7): its webhook, publishing tasks to channels, and the operation that registers the
//! webhook with Telegram.
//!
//! Telegram reaches the bot only through `POST /api/v1/telegram/webhook` ([`webhook`]); anything slow the bot is
//! asked to do (importing a question bank, publishing) becomes a job. The bot talks to Telegram through
//! [`platform::bot::BotApi`], whose base URL is configuration, so tests put a stand-in there.

pub mod documents;
pub mod publish;
pub mod webhook;

use frankenstein::types::User;

use crate::identity::telegram::TelegramUser;
use crate::quiz::Language;
use platform::Platform;
use platform::trigger::ReportFuture;

/// A Telegram user as the sign-in code knows one. Bots never become users.
pub(crate) fn account(user: &User) -> Option<TelegramUser> {
    if user.is_bot {
        return None;
    }
    Some(TelegramUser {
        id: i64::try_from(user.id).ok()?,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
        photo_url: None,
        language_code: user.language_code.clone(),
    })
}

/// The bot's words, in the languages it speaks; every other language gets English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Speech {
    En,
    Ru,
}

impl Speech {
    pub(crate) fn of(language: &Language) -> Self {
        if language.as_str() == "ru" { Speech::Ru } else { Speech::En }
    }

    pub(crate) fn pick(self, en: &'static str, ru: &'static str) -> &'static str {
        match self {
            Speech::En => en,
            Speech::Ru => ru,
        }
    }
}

/// `set-telegram-webhook`, invoked directly: `{"action": "set"}` (the default) registers the webhook with the
/// secret; `{"action": "info"}` shows what Telegram has.
pub fn set_webhook(platform: &'static Platform, event: serde_json::Value) -> ReportFuture {
    Box::pin(async move {
        use frankenstein::methods::SetWebhookParams;
        use frankenstein::types::AllowedUpdate;
        use frankenstein::updates::WebhookInfo;
        let action = event.get("action").and_then(serde_json::Value::as_str).unwrap_or("set");
        let bot = platform.bot();
        if action == "set" {
            let telegram = &platform.config.telegram;
            let url = telegram.webhook_url.clone().ok_or_else(|| {
                platform::JobError::new("TELEGRAM_WEBHOOK_URL is not set: the webhook's public URL is needed")
            })?;
            let params = SetWebhookParams::builder()
                .url(url)
                .secret_token(telegram.webhook_secret.clone())
                .allowed_updates(vec![
                    AllowedUpdate::Message,
                    AllowedUpdate::PollAnswer,
                    AllowedUpdate::ChatMember,
                    AllowedUpdate::MyChatMember,
                ])
                .max_connections(40)
                .build();
            let _: bool = bot.call("setWebhook", &params).await?;
        } else if action != "info" {
            return Err(platform::JobError::new(format!("unknown action {action:?}: expected \"set\" or \"info\"")));
        }
        let info: WebhookInfo = bot.call("getWebhookInfo", &serde_json::json!({})).await?;
        Ok(serde_json::json!({
            "action": action,
            "url": info.url,
            "pending_update_count": info.pending_update_count,
            "last_error_message": info.last_error_message,
            "allowed_updates": info.allowed_updates,
        }))
    })
}
