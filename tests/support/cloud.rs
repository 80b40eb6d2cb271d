//! Reaching the running local cloud (`infra/cloud start`) as a client would: its gateway, its queues, its
//! database, and its control API on the control port.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::identity::telegram::{TelegramUser, sign_init_data};

/// The gateway's base URL.
pub fn gateway() -> String {
    let settings = super::local_settings();
    format!("http://127.0.0.1:{}", settings.get("LOCAL_GATEWAY_PORT").map(String::as_str).unwrap_or("3000"))
}

/// The base URL of the local cloud's control port: its own API (`/_local/…`) and Lambda's Invoke API, which the
/// gateway does not serve.
pub fn control() -> String {
    let settings = super::local_settings();
    format!("http://127.0.0.1:{}", settings.get("LOCAL_CONTROL_PORT").map(String::as_str).unwrap_or("3001"))
}

/// An SQS client for the local endpoint, configured from `infra/local.env`.
pub async fn sqs() -> aws_sdk_sqs::Client {
    let settings = super::local_settings();
    for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        // SAFETY: every test sets the same values from the same file.
        unsafe { std::env::set_var(key, &settings[key]) };
    }
    aws_sdk_sqs::Client::new(&platform::aws::sdk_config())
}

/// The URL of one of the local cloud's queues, by its name without the stack prefix (`debug`, `mail-dlq`).
pub fn queue_url(name: &str) -> String {
    let settings = super::local_settings();
    format!("{}/123456789012/{}-{name}", settings["AWS_ENDPOINT_URL"], settings["LOCAL_STACK_NAME"])
}

/// A connection to the local cloud's database.
pub async fn database() -> tokio_postgres::Client {
    let (client, connection) =
        tokio_postgres::connect(&super::local_settings()["DATABASE_URL"], tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// How many times the `debug` job recorded this job id.
pub async fn recorded(db: &tokio_postgres::Client, id: uuid::Uuid) -> i64 {
    db.query_one("SELECT count(*) FROM debug_job_runs WHERE job_id = $1", &[&id]).await.unwrap().get(0)
}

/// Waits until `check` holds, up to `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// A client with a loopback address of its own (127.x.y.z), so per-client limits of earlier runs do not apply.
pub fn fresh_loopback_client() -> reqwest::Client {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let address = std::net::Ipv4Addr::new(127, bytes[0], bytes[1], bytes[2].max(2));
    reqwest::Client::builder().local_address(std::net::IpAddr::V4(address)).build().unwrap()
}

/// Invokes a function directly through the control API, as `infra/cloud invoke` does: its result, or its error.
pub async fn invoke(function: &str, event: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}/_local/invoke/{function}", control()))
        .json(&event)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// Fires a scheduled function now, as `infra/cloud fire` does.
pub async fn fire(function: &str) -> serde_json::Value {
    let response = reqwest::Client::new().post(format!("{}/_local/fire/{function}", control())).send().await.unwrap();
    response.json().await.unwrap()
}

/// A Telegram id no other test run uses.
pub fn fresh_telegram_id() -> i64 {
    200_000_000 + (uuid::Uuid::new_v4().as_u128() % 1_000_000_000) as i64
}

/// Mini App initData for a Telegram user, signed with `bot_token` now.
pub fn init_data_for(telegram_id: i64, bot_token: &str) -> String {
    init_data_at(telegram_id, bot_token, chrono::Utc::now())
}

/// Mini App initData for a Telegram user, signed with `bot_token` and dated `auth_date`.
pub fn init_data_at(telegram_id: i64, bot_token: &str, auth_date: chrono::DateTime<chrono::Utc>) -> String {
    let user = TelegramUser {
        id: telegram_id,
        first_name: "E2E".into(),
        last_name: Some("Player".into()),
        username: None,
        photo_url: None,
        language_code: Some("en".into()),
    };
    sign_init_data(&user, auth_date, bot_token)
}

/// One request to the gateway: its status and JSON body (a JSON string when the body is not JSON).
pub async fn call(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", gateway()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("is the local cloud up? (infra/cloud start)");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A session token for a Telegram user, through the Mini App sign-in route.
pub async fn sign_in(telegram_id: i64) -> String {
    let token = &super::local_settings()["TELEGRAM_BOT_TOKEN"];
    let (status, body) = call(
        Method::POST,
        "/api/v1/auth/telegram/mini-app",
        None,
        Some(json!({"init_data": init_data_for(telegram_id, token)})),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    body["token"].as_str().unwrap().to_string()
}
