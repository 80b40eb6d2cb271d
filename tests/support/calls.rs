//! Calling route handlers in process, as the trigger adapter calls them, and signing in: what every integration
//! test of routes needs. A test builds an [`ApiRequest`] with [`get`], [`post`], [`patch`] or [`delete`], sends it
//! to a handler, and reads the [`Reply`] (an error turned into its response, as the adapter does).

use std::future::Future;

use chrono::Utc;
use http::{HeaderValue, Method};
use platform::Platform;
use platform::http::{ApiError, ApiRequest, ApiResponse};
use serde_json::{Value as Json, json};
use shared::identity;
use shared::identity::telegram::{TelegramUser, sign_init_data};

// ---------------------------------------------------------------------------------------------------------------
// Calling handlers
// ---------------------------------------------------------------------------------------------------------------

/// What a handler answered, errors turned into their response as the trigger adapter does.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Json,
    pub text: String,
    /// The `Content-Type` header, empty when there is none.
    pub content_type: String,
}

impl Reply {
    #[track_caller]
    pub fn ok(self) -> Json {
        assert!((200..300).contains(&self.status), "expected success, got {}: {}", self.status, self.text);
        self.body
    }

    /// A documented client error: the status, the code, and the `{"error": {"code", "message"}}` body.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "expected {status} {code}, got: {}", self.text);
        assert_eq!(self.body["error"]["code"], code, "{}", self.text);
        assert!(
            self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error message: {}",
            self.text
        );
    }

    /// The fields a `400 validation_failed` names, sorted.
    #[track_caller]
    pub fn fields(&self) -> Vec<String> {
        self.expect_error(400, "validation_failed");
        self.body["error"]["fields"].as_object().map(|f| f.keys().cloned().collect()).unwrap_or_default()
    }
}

/// An `ApiRequest` being built.
pub struct Call(pub ApiRequest);

pub fn get(path: &str) -> Call {
    Call(ApiRequest::new(Method::GET, path))
}

pub fn post(path: &str) -> Call {
    Call(ApiRequest::new(Method::POST, path))
}

pub fn patch(path: &str) -> Call {
    Call(ApiRequest::new(Method::PATCH, path))
}

pub fn delete(path: &str) -> Call {
    Call(ApiRequest::new(Method::DELETE, path))
}

impl Call {
    pub fn param(mut self, name: &str, value: impl ToString) -> Self {
        self.0.path_params.insert(name.into(), value.to_string());
        self
    }

    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.0.query.insert(name.into(), value.to_string());
        self
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.0.headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        self
    }

    pub fn maybe_bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(t) => self.bearer(t),
            None => self,
        }
    }

    pub fn json(mut self, body: &Json) -> Self {
        self.0.set_json_body(serde_json::to_vec(body).unwrap());
        self
    }

    /// The client's address, as API Gateway reports it.
    pub fn from_ip(mut self, ip: &str) -> Self {
        self.0.source_ip = Some(ip.into());
        self
    }

    /// A body of any bytes, declared as JSON (so a route's JSON parsing, not the type check, sees it).
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.0.set_json_body(body);
        self
    }

    /// Sets (or with `None` removes) the `Content-Type` header.
    pub fn content_type(mut self, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.0.headers.insert("content-type", HeaderValue::from_str(v).unwrap()),
            None => self.0.headers.remove("content-type"),
        };
        self
    }

    pub async fn send<'a, H, F>(self, p: &'a Platform, handler: H) -> Reply
    where
        H: FnOnce(&'a Platform, ApiRequest) -> F,
        F: Future<Output = Result<ApiResponse, ApiError>>,
    {
        let response = handler(p, self.0).await.unwrap_or_else(|e| e.to_response());
        let text = String::from_utf8_lossy(&response.body).into_owned();
        let body = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
        let content_type =
            response.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        Reply { status: response.status.as_u16(), body, text, content_type }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Signing in
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub token: String,
}

pub fn telegram(id: i64, first_name: &str) -> TelegramUser {
    TelegramUser {
        id,
        first_name: first_name.into(),
        last_name: None,
        username: None,
        photo_url: None,
        language_code: Some("en".into()),
    }
}

pub fn bot_token(p: &Platform) -> &str {
    &p.config.identity.telegram_bot_token
}

pub async fn mini_app_sign_in(p: &Platform, init_data: &str) -> Reply {
    post("/api/v1/auth/telegram/mini-app")
        .json(&json!({ "init_data": init_data }))
        .send(p, identity::sign_in_mini_app)
        .await
}

pub fn signed_in(reply: Reply) -> User {
    let body = reply.ok();
    User {
        id: body["user"]["id"].as_i64().expect("a user id"),
        token: body["token"].as_str().expect("a token").to_string(),
    }
}

/// A Mini App user, signed in with freshly signed initData.
pub async fn player(p: &Platform, telegram_id: i64, first_name: &str) -> User {
    let init_data = sign_init_data(&telegram(telegram_id, first_name), Utc::now(), bot_token(p));
    signed_in(mini_app_sign_in(p, &init_data).await)
}

/// The configured administrator (ADMIN_TELEGRAM_IDS), signed in through the Mini App.
pub async fn admin_user(p: &Platform) -> User {
    let id = *p.config.identity.admin_telegram_ids.first().expect("infra/local.env names an admin");
    player(p, id, "Admin").await
}
