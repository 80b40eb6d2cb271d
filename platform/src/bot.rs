//! The Bot API client: one way to call Telegram, with the crate's own request and result types.
//!
//! Every method is a JSON `POST` to `<base>/bot<token>/<method>`; Telegram answers `{"ok": true, "result": …}`
//! or `{"ok": false, "error_code": …, "description": …, "parameters": {"retry_after": …}}`. The three ways a
//! call can fail are kept apart because the callers treat them differently: wait and try later (429), give up
//! and record why (Telegram refused), or let the queue retry (Telegram could not be reached or failed).

use std::time::Duration;

use frankenstein::methods::SendMessageParams;
use frankenstein::response::{ErrorResponse, MethodResponse};
use frankenstein::types::{InlineKeyboardMarkup, ReplyMarkup};
use http::header::CONTENT_TYPE;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::outbound::HttpsClient;

/// Largest file the bot downloads (a question bank sent as a document).
pub const MAX_DOWNLOAD_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// Too many requests: Telegram says when to try again.
    #[error("Telegram limits {method}: retry after {seconds} s")]
    RetryAfter { method: &'static str, seconds: u64 },
    /// Telegram refused the request (a 4xx other than 429): trying again would not help.
    #[error("Telegram refused {method}: {code} {description}")]
    Refused { method: &'static str, code: u64, description: String },
    /// Telegram could not be reached, timed out, failed (5xx) or answered something unreadable.
    #[error("Telegram failed {method}: {message}")]
    Unavailable { method: &'static str, message: String },
}

/// Connecting may take this long, and a whole call (request and answer) this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read from a method call (a `Message` is a few kilobytes).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What the bot reads of a message it sent. Telegram answers `sendMessage`, `sendPhoto` and `sendPoll` with the
/// whole message; only its id (and a poll's id) is kept, so no binary carries a reader for every field of
/// frankenstein's `Message` that it never looks at.
#[derive(Debug, Deserialize)]
pub struct Sent {
    pub message_id: i32,
    pub poll: Option<SentPoll>,
}

#[derive(Debug, Deserialize)]
pub struct SentPoll {
    pub id: String,
}

/// The bot's connection to the Bot API.
#[derive(Clone)]
pub struct BotApi {
    http: HttpsClient,
    /// `<base>/bot<token>/`: never logged, it holds the token.
    methods: String,
    /// `<base>/file/bot<token>/`, where `getFile`'s paths are downloaded from.
    files: String,
}

impl BotApi {
    pub fn new(api_base_url: &str, token: &str) -> Self {
        let base = api_base_url.trim_end_matches('/');
        Self {
            http: HttpsClient::new(CONNECT_TIMEOUT, CALL_TIMEOUT),
            methods: format!("{base}/bot{token}/"),
            files: format!("{base}/file/bot{token}/"),
        }
    }

    async fn exchange(
        &self,
        method: &'static str,
        request: Request<Full<Bytes>>,
        max_bytes: usize,
    ) -> Result<(StatusCode, Option<Bytes>), BotError> {
        let answer = self
            .http
            .exchange(request, max_bytes)
            .await
            .map_err(|message| BotError::Unavailable { method, message })?;
        Ok((answer.status, answer.body))
    }

    /// Calls one method. `P` is the crate's parameter type (`SendMessageParams`, …), `T` its result.
    pub async fn call<P: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: &P,
    ) -> Result<T, BotError> {
        let unavailable = |message: String| BotError::Unavailable { method, message };
        let body = serde_json::to_vec(params).map_err(|e| unavailable(format!("cannot write the parameters: {e}")))?;
        let request = Request::post(format!("{}{method}", self.methods))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| unavailable("the Bot API address is not a valid URL".into()))?;
        let (status, body) = self.exchange(method, request, MAX_ANSWER_BYTES).await?;
        let body = body.ok_or_else(|| unavailable("the answer is too large".into()))?;
        if status.is_success() {
            return serde_json::from_slice::<MethodResponse<T>>(&body)
                .map(|r| r.result)
                .map_err(|e| unavailable(format!("unreadable answer: {e}")));
        }
        let refusal: Option<ErrorResponse> = serde_json::from_slice(&body).ok();
        let description = refusal.as_ref().map(|r| r.description.clone()).unwrap_or_else(|| format!("HTTP {status}"));
        if status == StatusCode::TOO_MANY_REQUESTS {
            let seconds = refusal.and_then(|r| r.parameters).and_then(|p| p.retry_after).map_or(5, u64::from);
            return Err(BotError::RetryAfter { method, seconds });
        }
        if status.is_client_error() {
            return Err(BotError::Refused { method, code: u64::from(status.as_u16()), description });
        }
        Err(unavailable(description))
    }

    /// Downloads a file by the `file_path` `getFile` gave, refusing one larger than `max_bytes`.
    /// Sends a text message (cut to Telegram's 4096 characters); answers its message id.
    pub async fn send_text(
        &self,
        chat_id: i64,
        text: &str,
        markup: Option<InlineKeyboardMarkup>,
    ) -> Result<i32, BotError> {
        let params = SendMessageParams::builder()
            .chat_id(chat_id)
            .text(truncate(text, 4096))
            .maybe_reply_markup(markup.map(ReplyMarkup::InlineKeyboardMarkup))
            .build();
        let sent: Sent = self.call("sendMessage", &params).await?;
        Ok(sent.message_id)
    }

    pub async fn download(&self, file_path: &str, max_bytes: usize) -> Result<Vec<u8>, BotError> {
        let method = "file download";
        let request =
            Request::get(format!("{}{file_path}", self.files)).body(Full::new(Bytes::new())).map_err(|_| {
                BotError::Refused { method, code: 400, description: "the file path is not valid in a URL".into() }
            })?;
        let (status, body) = self.exchange(method, request, max_bytes).await?;
        let code = u64::from(status.as_u16());
        if status.is_client_error() {
            return Err(BotError::Refused { method, code, description: "the file is not available".into() });
        }
        if !status.is_success() {
            return Err(BotError::Unavailable { method, message: format!("HTTP {code}") });
        }
        let body = body.ok_or_else(|| BotError::Refused {
            method,
            code: 413,
            description: format!("the file is larger than {max_bytes} bytes"),
        })?;
        Ok(body.to_vec())
    }
}

/// At most `max` characters, with an ellipsis when cut: Telegram refuses texts over its limits (4096 for a
/// message, 300 for a poll question, 100 for an option).
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_error_never_shows_the_token() {
        let api = BotApi::new("http://127.0.0.1:9/", "123:SECRET-TOKEN-VALUE-XXXXXXXX");
        assert_eq!(api.methods, "http://127.0.0.1:9/bot123:SECRET-TOKEN-VALUE-XXXXXXXX/");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = rt.block_on(api.call::<_, serde_json::Value>("getMe", &serde_json::json!({}))).unwrap_err();
        assert!(matches!(err, BotError::Unavailable { method: "getMe", .. }), "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
