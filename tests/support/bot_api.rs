//! A recording stand-in for the Telegram Bot API, on loopback, for the tests only: Telegram cannot be reached
//! from here, and the functions only know a configurable base URL (`TELEGRAM_API_BASE_URL` in `infra/local.env`).
//!
//! It answers every method the bot calls with the Bot API's documented JSON shapes (`{"ok": true, "result":
//! …}`), records each call (method and parameters, in arrival order), serves files registered for `getFile`, and
//! can be told to refuse the next call of a method to a chat with a 429 (`retry_after`) or a 500. One stand-in
//! ([`BotApi::get`], on the port of `TELEGRAM_API_BASE_URL`) serves the local cloud's functions for a whole test
//! binary, on a thread of its own, so it outlives each test's runtime; tests tell their calls apart by chat id.
//! A test that calls the bot in process starts one of its own on a free port instead ([`BotApi::start`]) and points
//! its platform's `TELEGRAM_API_BASE_URL` at [`BotApi::base_url`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use http::StatusCode;
use serde_json::{Value as Json, json};

use crate::http_stub;

/// One call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Json,
}

impl Call {
    pub fn chat_id(&self) -> Option<i64> {
        self.params.get("chat_id").and_then(Json::as_i64)
    }
}

/// What to answer instead of success, once.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    TooManyRequests {
        retry_after: u64,
    },
    ServerError,
    /// What Telegram answers when the user blocked the bot.
    Forbidden,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    files: HashMap<String, Vec<u8>>,
    refusals: Vec<(String, i64, Refusal)>,
    next_id: i64,
}

/// The stand-in. [`BotApi::get`] starts it on first use, on the port of `TELEGRAM_API_BASE_URL`.
#[derive(Clone)]
pub struct BotApi {
    state: Arc<Mutex<State>>,
    /// Where it listens: `http://127.0.0.1:<port>`.
    pub base_url: String,
}

impl BotApi {
    /// The stand-in the local cloud's functions call, on the port of `TELEGRAM_API_BASE_URL`.
    pub fn get() -> BotApi {
        static STANDIN: OnceLock<BotApi> = OnceLock::new();
        STANDIN
            .get_or_init(|| {
                let settings = crate::local_settings();
                serve(settings["TELEGRAM_API_BASE_URL"].trim_start_matches("http://").trim_end_matches('/'))
            })
            .clone()
    }

    /// A stand-in of its own on a free loopback port, for a platform in process.
    pub fn start() -> BotApi {
        serve("127.0.0.1:0")
    }

    /// Every call so far to one chat, in order.
    pub fn calls_to(&self, chat_id: i64) -> Vec<Call> {
        self.state.lock().unwrap().calls.iter().filter(|c| c.chat_id() == Some(chat_id)).cloned().collect()
    }

    /// Every call of one method so far.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.state.lock().unwrap().calls.iter().filter(|c| c.method == method).cloned().collect()
    }

    /// Makes `getFile` of `file_id` answer a path, and that path serve `bytes`.
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.state.lock().unwrap().files.insert(file_id.to_string(), bytes);
    }

    /// The next call of `method` to `chat_id` is refused so.
    pub fn refuse_next(&self, method: &str, chat_id: i64, refusal: Refusal) {
        self.state.lock().unwrap().refusals.push((method.to_string(), chat_id, refusal));
    }
}

fn serve(address: &str) -> BotApi {
    let state = Arc::new(Mutex::new(State { next_id: 1000, ..State::default() }));
    let served = BotApi { state: state.clone(), base_url: String::new() };
    let bound = http_stub::spawn(address, move |request| {
        let (status, content_type, body) = served.answer(&request.path, &request.body);
        http_stub::Response { status, content_type, body }
    });
    BotApi { state, base_url: format!("http://{bound}") }
}

impl BotApi {
    fn answer(&self, path: &str, body: &[u8]) -> (StatusCode, &'static str, Vec<u8>) {
        let mut state = self.state.lock().unwrap();
        if let Some(file_path) = path.strip_prefix("/file/").and_then(|p| p.split_once('/')).map(|(_, p)| p) {
            let file_id = file_path.trim_start_matches("documents/");
            return match state.files.get(file_id) {
                Some(bytes) => (StatusCode::OK, "application/octet-stream", bytes.clone()),
                None => (StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec()),
            };
        }
        let method = path.rsplit('/').next().unwrap_or_default().to_string();
        let params: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
        let chat_id = params.get("chat_id").and_then(Json::as_i64).unwrap_or_default();
        if let Some(i) = state.refusals.iter().position(|(m, c, _)| *m == method && *c == chat_id) {
            let (_, _, refusal) = state.refusals.remove(i);
            return match refusal {
                Refusal::TooManyRequests { retry_after } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "application/json",
                    json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {retry_after}"),
                           "parameters": {"retry_after": retry_after}})
                    .to_string()
                    .into_bytes(),
                ),
                Refusal::Forbidden => (
                    StatusCode::FORBIDDEN,
                    "application/json",
                    json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}).to_string().into_bytes(),
                ),
                Refusal::ServerError => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "application/json",
                    json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}).to_string().into_bytes(),
                ),
            };
        }
        state.calls.push(Call { method: method.clone(), params: params.clone() });
        state.next_id += 1;
        let id = state.next_id;
        let message = |extra: Json| {
            let mut m = json!({"message_id": id, "date": 1795662000, "chat": {"id": chat_id, "type": if chat_id < 0 { "supergroup" } else { "private" }}});
            if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
                m.extend(extra.clone());
            }
            m
        };
        let result = match method.as_str() {
            "sendMessage" => message(json!({"text": params["text"]})),
            "sendPhoto" => message(
                json!({"photo": [{"file_id": format!("photo-{id}"), "file_unique_id": format!("u-{id}"), "width": 1600, "height": 1000}]}),
            ),
            "sendPoll" => {
                let options: Vec<Json> = params["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| json!({"text": o["text"], "voter_count": 0}))
                    .collect();
                message(
                    json!({"poll": {"id": format!("poll-{}", uuid::Uuid::new_v4().simple()), "question": params["question"], "options": options,
                    "total_voter_count": 0, "is_closed": false, "is_anonymous": params["is_anonymous"].as_bool().unwrap_or(true),
                    "type": params["type"].as_str().unwrap_or("regular"), "correct_option_ids": params["correct_option_ids"],
                    "explanation": params["explanation"]}}),
                )
            }
            "getFile" => {
                let file_id = params["file_id"].as_str().unwrap_or_default();
                match state.files.get(file_id) {
                    Some(bytes) => {
                        json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"), "file_size": bytes.len(),
                                          "file_path": format!("documents/{file_id}")})
                    }
                    None => {
                        return (
                            StatusCode::BAD_REQUEST,
                            "application/json",
                            json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})
                                .to_string()
                                .into_bytes(),
                        );
                    }
                }
            }
            "setWebhook" => json!(true),
            "getWebhookInfo" => {
                let url = state
                    .calls
                    .iter()
                    .rev()
                    .find(|c| c.method == "setWebhook")
                    .map(|c| c.params["url"].clone())
                    .unwrap_or(json!(""));
                json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0})
            }
            _ => {
                return (
                    StatusCode::NOT_FOUND,
                    "application/json",
                    json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"})
                        .to_string()
                        .into_bytes(),
                );
            }
        };
        (StatusCode::OK, "application/json", json!({"ok": true, "result": result}).to_string().into_bytes())
    }
}
