//! Identity: signing in three ways, and recognising the signed-in user on every request (DOMAIN §1).
//!
//! Every way of signing in ends the same: a server-side session (see [`crate::sessions`]) whose token goes to the
//! client once, in the body for the Mini App and as an HttpOnly cookie for the web. Every request that acts for
//! a user is authorised by that session through [`Viewer::authenticate`] — never by a Telegram id the client
//! sends. The Telegram checks live in [`telegram`], passwords in [`password`].

pub mod limits;
pub mod password;
pub mod reset_page;
pub mod telegram;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::quiz::Language;
use crate::sessions::{self, COOKIE_NAME, SessionToken};
use crate::users::{self, Profile};
use platform::Platform;
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::jobs::JobEnvelope;
use platform::mail::Email;

use telegram::{TelegramAuthError, TelegramUser};

/// A password reset link works this long, once.
pub const PASSWORD_RESET_TTL: Duration = Duration::from_secs(3600);

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub profile: Profile,
    pub token: SessionToken,
}

impl Viewer {
    pub fn id(&self) -> i64 {
        self.profile.id
    }

    /// The user of the request's session; 401 when there is none, it expired, or the account is deactivated.
    pub async fn authenticate(platform: &Platform, request: &ApiRequest) -> Result<Viewer, ApiError> {
        Self::optional(platform, request)
            .await?
            .ok_or_else(|| ApiError::unauthorized("sign in first: no valid session cookie or bearer token"))
    }

    /// As [`Viewer::authenticate`], for routes that anonymous callers may use too. A token that is presented but
    /// invalid is still a 401, so a client learns its session is gone instead of silently seeing less.
    pub async fn optional(platform: &Platform, request: &ApiRequest) -> Result<Option<Viewer>, ApiError> {
        let Some(presented) = presented_token(request) else { return Ok(None) };
        let invalid = || ApiError::unauthorized("the session is invalid or has expired; sign in again");
        let token = SessionToken::parse(&presented).ok_or_else(invalid)?;
        let session = sessions::lookup(&platform.db, &platform.cache, &token).await?.ok_or_else(invalid)?;
        let profile = users::profile(platform, session.user_id).await?.ok_or_else(invalid)?;
        if profile.deactivated_at.is_some() {
            return Err(ApiError::unauthorized("this account is deactivated"));
        }
        Ok(Some(Viewer { profile, token }))
    }

    /// As [`Viewer::authenticate`], and 403 unless the user is an administrator.
    pub async fn admin(platform: &Platform, request: &ApiRequest) -> Result<Viewer, ApiError> {
        let viewer = Self::authenticate(platform, request).await?;
        if viewer.profile.is_admin { Ok(viewer) } else { Err(ApiError::forbidden("only administrators may do this")) }
    }
}

/// The token a request presents: `Authorization: Bearer …` first, else the `session` cookie.
/// An `Authorization` header of another scheme is not ours and leaves the cookie to decide; a Bearer header
/// without a token is presented, and invalid.
fn presented_token(request: &ApiRequest) -> Option<String> {
    if let Some(auth) = request.header("authorization") {
        let auth = auth.trim();
        let (scheme, token) = auth.split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(token.trim().to_string());
        }
    }
    request
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

/// What every sign-in answers: the token (once), when it expires, and the user.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub created: bool,
    pub user: Profile,
}

/// Starts a session and answers with it, in the body and as a cookie.
async fn start_session(
    platform: &Platform,
    request: &ApiRequest,
    user_id: i64,
    created: bool,
) -> Result<ApiResponse, ApiError> {
    let conn = platform.db.connection().await?;
    let (token, session) =
        sessions::create(&conn, user_id, platform.config.identity.session_ttl, request.header("user-agent")).await?;
    let user = users::load(&conn, user_id, &platform.config.identity.admin_telegram_ids)
        .await?
        .ok_or_else(|| ApiError::internal("a user vanished while signing in"))?;
    users::invalidate(platform, user_id).await;
    let cookie = format!(
        "{COOKIE_NAME}={}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        token.as_str(),
        platform.config.identity.session_ttl.as_secs()
    );
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let body = SignedIn { token: token.as_str().to_string(), expires_at: session.expires_at, created, user };
    let response = ApiResponse::json(status, &body);
    Ok(match HeaderValue::from_str(&cookie) {
        Ok(value) => response.with_header(header::SET_COOKIE, value),
        Err(_) => response,
    })
}

fn telegram_refusal(e: TelegramAuthError) -> ApiError {
    match e {
        TelegramAuthError::Missing(_) | TelegramAuthError::Malformed(_) => {
            ApiError::bad_request("invalid_telegram_data", e.to_string())
        }
        TelegramAuthError::BadSignature | TelegramAuthError::Expired | TelegramAuthError::FromTheFuture => {
            ApiError::unauthorized(e.to_string())
        }
    }
}

/// 400 naming the field when a signed Telegram user's text holds a NUL character: a valid signature says Telegram
/// sent it, not that PostgreSQL can store it.
fn refuse_nul_in(tg: &TelegramUser, prefix: &str) -> Result<(), ApiError> {
    let texts = [
        ("first_name", Some(&tg.first_name)),
        ("last_name", tg.last_name.as_ref()),
        ("username", tg.username.as_ref()),
        ("photo_url", tg.photo_url.as_ref()),
        ("language_code", tg.language_code.as_ref()),
    ];
    for (name, value) in texts {
        if let Some(value) = value {
            platform::http::text::refuse_nul(&format!("{prefix}{name}"), value)?;
        }
    }
    Ok(())
}

/// Finds or creates the user of a Telegram account. Names and language fill a new profile; later, the user's
/// own edits win and only the Telegram photo follows Telegram.
pub(crate) async fn telegram_user(platform: &Platform, tg: &TelegramUser) -> Result<(i64, bool), ApiError> {
    let conn = platform.db.connection().await?;
    let language = tg.language_code.as_deref().and_then(Language::parse).unwrap_or_else(Language::english);
    // The sign-in routes refuse a NUL ([`refuse_nul_in`]); an update from the bot is not refused for one (Telegram
    // would deliver it again and again), so here it becomes U+FFFD, which PostgreSQL stores.
    let storable =
        |text: &str| -> String { text.chars().take(128).map(|c| if c == '\0' { '\u{FFFD}' } else { c }).collect() };
    let first_name = storable(&tg.first_name);
    let last_name: Option<String> = tg.last_name.as_deref().map(storable);
    let photo_url: Option<String> = tg.photo_url.as_deref().filter(|u| !u.contains('\0')).map(String::from);
    let row = conn
        .query_one(
            "INSERT INTO users (telegram_id, first_name, last_name, telegram_photo_url, language, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (telegram_id) DO UPDATE
                 SET telegram_photo_url = EXCLUDED.telegram_photo_url, last_seen_at = now()
             RETURNING id, deactivated_at IS NOT NULL AS deactivated, xmax = 0 AS created",
            &[&tg.id, &first_name, &last_name, &photo_url, &language.as_str()],
        )
        .await?;
    let (id, deactivated, created): (i64, bool, bool) = (row.get("id"), row.get("deactivated"), row.get("created"));
    if deactivated {
        return Err(ApiError::forbidden("this account is deactivated"));
    }
    let new_username =
        if created { tg.username.as_deref().filter(|u| u.len() <= 64 && !u.contains('\0')) } else { None };
    if let Some(username) = new_username {
        // Telegram usernames are unique in Telegram, not necessarily here: take it only when it is free.
        let taken = conn
            .execute(
                "UPDATE users SET username = $2 WHERE id = $1
                 AND NOT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($2))",
                &[&id, &username],
            )
            .await;
        if let Err(e) = taken.as_ref().map_err(|e| e.code()) {
            tracing::info!(code = ?e, "telegram username not taken over");
        }
    }
    Ok((id, created))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MiniAppSignIn {
    init_data: String,
}

/// `POST /api/v1/auth/telegram/mini-app`: signs in with the Mini App's `initData`.
pub async fn sign_in_mini_app(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: MiniAppSignIn = request.json()?;
    let identity = &platform.config.identity;
    let tg = telegram::verify_init_data(
        &body.init_data,
        &identity.telegram_bot_token,
        identity.telegram_auth_max_age,
        Utc::now(),
    )
    .map_err(telegram_refusal)?;
    refuse_nul_in(&tg, "init_data.user.")?;
    let (user_id, created) = telegram_user(platform, &tg).await?;
    start_session(platform, &request, user_id, created).await
}

/// `POST /api/v1/auth/telegram/widget`: signs in with the Telegram Login Widget's fields.
pub async fn sign_in_telegram_widget(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let fields: serde_json::Map<String, serde_json::Value> = request.json()?;
    let identity = &platform.config.identity;
    let tg = telegram::verify_login_widget(
        &fields,
        &identity.telegram_bot_token,
        identity.telegram_auth_max_age,
        Utc::now(),
    )
    .map_err(telegram_refusal)?;
    refuse_nul_in(&tg, "")?;
    let (user_id, created) = telegram_user(platform, &tg).await?;
    start_session(platform, &request, user_id, created).await
}

/// An e-mail address, checked once at the edge: trimmed, one `@`, a dotted domain, no spaces, at most 254
/// characters. Compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim();
        let (local, domain) = s.split_once('@')?;
        let ok = s.len() <= 254
            && (1..=64).contains(&local.len())
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && s.chars().all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | ',' | ';' | '"'));
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn field_error(field: &str, problem: &str) -> ApiError {
    ApiError::validation(BTreeMap::from([(field.to_string(), problem.to_string())]))
}

async fn hash_in_background(password: String) -> Result<String, ApiError> {
    // Argon2id costs tens of milliseconds of CPU: off the async threads.
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

async fn verify_in_background(candidate: String, stored: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || password::verify_password(&candidate, &stored))
        .await
        .map_err(ApiError::internal)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    email: String,
    password: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// What registration answers, whether the address was new or taken: the answer must not tell which.
fn registration_accepted() -> ApiResponse {
    ApiResponse::json(
        StatusCode::ACCEPTED,
        &serde_json::json!({
            "accepted": true,
            "message": "check your mail: a new account gets a welcome there; sign in with your address and password",
        }),
    )
}

/// `POST /api/v1/auth/register`: a new account with e-mail and password. The answer is 202 and the same whether
/// the address was free or already has an account, so it does not tell who has one: a new account gets a
/// welcome mail, and the owner of a taken address a mail saying somebody tried (with the way to reset). The
/// client signs in with `POST /api/v1/auth/login`. Limited per client address and per address mailed.
pub async fn register(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: Registration = request.json()?;
    let mut problems = BTreeMap::new();
    let email = EmailAddress::parse(&body.email);
    if email.is_none() {
        problems.insert("email".to_string(), "is not a valid e-mail address".to_string());
    }
    if let Err(e) = password::check_password_policy(&body.password, email.as_ref().map(EmailAddress::as_str)) {
        problems.insert("password".to_string(), e.to_string());
    }
    let first_name = body.first_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if let Some(Err(problem)) = first_name.as_deref().map(|n| users::check_text(n, 128)) {
        problems.insert("first_name".to_string(), problem);
    }
    let language = match body.language.as_deref() {
        None => Some(Language::english()),
        Some(l) => Language::parse(l),
    };
    if language.is_none() {
        problems.insert("language".to_string(), "must be a two-letter language code such as \"en\"".to_string());
    }
    let (Some(email), Some(language), true) = (email, language, problems.is_empty()) else {
        return Err(ApiError::validation(problems));
    };
    let key = &platform.config.identity.client_hash_key;
    let address = limits::client_address(&request);
    {
        let conn = platform.db.connection().await?;
        limits::hit(&conn, key, limits::REGISTER_PER_ADDRESS, address).await?.or_refuse()?;
    }
    // Hashed whether or not the address is free, so the answer takes as long either way.
    let hash = hash_in_background(body.password).await?;
    let conn = platform.db.connection().await?;
    let inserted = conn
        .query_opt(
            "INSERT INTO users (email, password_hash, first_name, language, last_seen_at)
             VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING RETURNING id",
            &[&email.as_str(), &hash, &first_name, &language.as_str()],
        )
        .await?;
    let mail_allowed =
        limits::hit(&conn, key, limits::REGISTER_MAILS_PER_ACCOUNT, &email.as_str().to_lowercase()).await?.is_within();
    if !mail_allowed {
        return Ok(registration_accepted());
    }
    // The owner of a taken address is told at the address the account has, not as this attempt spelled it.
    let owner: Option<String> = match inserted {
        Some(_) => None,
        None => conn
            .query_opt("SELECT email FROM users WHERE lower(email) = lower($1)", &[&email.as_str()])
            .await?
            .map(|r| r.get("email")),
    };
    let base = &platform.config.public_base_url;
    let mail = match owner {
        None => Email {
            to: vec![email.as_str().to_string()],
            subject: "Welcome to the quiz".into(),
            text: format!(
                "Your quiz account is ready. Sign in with this address and the password you chose:\n{base}/app/\n\n\
                 If you did not register, ignore this mail or reset the password at {base}/reset-password."
            ),
            html: None,
            reply_to: None,
        },
        Some(owner) => Email {
            to: vec![owner],
            subject: "Somebody tried to register with your address".into(),
            text: format!(
                "Somebody (hopefully you) tried to register a quiz account with this address, which already has one.\n\n\
                 If it was you, sign in at {base}/app/, or choose a new password at {base}/reset-password if you\n\
                 forgot it.\n\
                 If it was not you, nothing has changed and you need do nothing."
            ),
            html: None,
            reply_to: None,
        },
    };
    queue_mail(platform, &mail, "registration").await;
    Ok(registration_accepted())
}

/// Queues a mail whose sending must not change the answer (it would tell whether an address has an account):
/// a queue outage is logged, not answered.
async fn queue_mail(platform: &Platform, mail: &Email, what: &str) {
    let job = match JobEnvelope::of(mail) {
        Ok(job) => job,
        Err(e) => return tracing::error!(error = %e, what, "mail not serialised"),
    };
    if let Err(e) = platform.jobs.enqueue(&job).await {
        tracing::error!(error = %e, what, "mail not queued");
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    email: String,
    password: String,
}

/// An Argon2id hash of a random password nobody knows, made once per instance: verifying against it when the
/// address is unknown makes a refusal take as long as a wrong password, so timing does not reveal which
/// addresses have accounts.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| {
            let secret = SessionToken::generate().map(|t| t.as_str().to_string()).unwrap_or_default();
            password::hash_password(&secret).unwrap_or_default()
        })
        .clone()
}

/// `POST /api/v1/auth/login`: e-mail and password. Limited per client address (whatever the account) and per
/// account from that address (wrong passwords only), so nobody can lock the owner out by failing for them; an
/// over-long password is refused before any hash.
pub async fn sign_in(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: Credentials = request.json()?;
    let refused = || ApiError::unauthorized("the e-mail address or the password is wrong");
    let Some(email) = EmailAddress::parse(&body.email) else {
        return Err(field_error("email", "is not a valid e-mail address"));
    };
    let key = &platform.config.identity.client_hash_key;
    let address = limits::client_address(&request);
    let pair = format!("{}|{address}", email.as_str().to_lowercase());
    let conn = platform.db.connection().await?;
    limits::hit(&conn, key, limits::LOGIN_PER_ADDRESS, address).await?.or_refuse()?;
    limits::check(&conn, key, limits::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, &pair).await?.or_refuse()?;
    // No stored password is longer: refused as wrong, without spending a hash on it.
    if body.password.chars().count() > password::MAX_PASSWORD_CHARS {
        limits::hit(&conn, key, limits::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, &pair).await?;
        return Err(refused());
    }
    let row = conn
        .query_opt(
            "SELECT id, password_hash, deactivated_at IS NOT NULL AS deactivated FROM users WHERE lower(email) = lower($1)",
            &[&email.as_str()],
        )
        .await?;
    let (user_id, stored, deactivated) = match row {
        Some(r) => {
            (r.get::<_, i64>("id"), r.get::<_, Option<String>>("password_hash"), r.get::<_, bool>("deactivated"))
        }
        None => (0, None, false),
    };
    let against = match &stored {
        Some(hash) => hash.clone(),
        None => tokio::task::spawn_blocking(decoy_hash).await.map_err(ApiError::internal)?,
    };
    let matches = verify_in_background(body.password, against).await?;
    let conn = platform.db.connection().await?;
    if !matches || stored.is_none() {
        limits::hit(&conn, key, limits::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, &pair).await?;
        return Err(refused());
    }
    limits::clear(&conn, key, limits::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, &pair).await?;
    if deactivated {
        return Err(ApiError::forbidden("this account is deactivated"));
    }
    start_session(platform, &request, user_id, false).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SignOut {
    #[serde(default)]
    everywhere: bool,
}

/// `POST /api/v1/auth/logout`: ends this session (or, with `{"everywhere": true}`, every session of the user)
/// and clears the cookie.
pub async fn sign_out(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let body: SignOut = if request.body.is_empty() { SignOut::default() } else { request.json()? };
    let ended = if body.everywhere {
        let conn = platform.db.connection().await?;
        sessions::revoke_all(&conn, &platform.cache, viewer.id()).await?
    } else {
        sessions::revoke(&platform.db, &platform.cache, &viewer.token).await?;
        1
    };
    let expired = format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    let response = ApiResponse::ok(&serde_json::json!({ "signed_out": true, "sessions_ended": ended }));
    Ok(match HeaderValue::from_str(&expired) {
        Ok(v) => response.with_header(header::SET_COOKIE, v),
        Err(_) => response,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

/// `POST /api/v1/auth/password-reset`: mails a one-time link when the address has an account. The answer is
/// the same either way, so it does not tell who has an account; three mails per address per hour at most.
pub async fn request_password_reset(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: ResetRequest = request.json()?;
    let Some(email) = EmailAddress::parse(&body.email) else {
        return Err(field_error("email", "is not a valid e-mail address"));
    };
    let accepted = ApiResponse::json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "accepted": true, "message": "if an account uses this address, a reset link is on its way" }),
    );
    let key = &platform.config.identity.client_hash_key;
    let conn = platform.db.connection().await?;
    limits::hit(&conn, key, limits::RESET_PER_ADDRESS, limits::client_address(&request)).await?.or_refuse()?;
    if !limits::hit(&conn, key, limits::RESET_MAILS_PER_ACCOUNT, &email.as_str().to_lowercase()).await?.is_within() {
        return Ok(accepted);
    }
    let token = SessionToken::generate().map_err(ApiError::internal)?;
    let row = conn
        .query_opt(
            "INSERT INTO password_reset_tokens (token_hash, user_id, expires_at)
             SELECT $1, id, now() + make_interval(secs => $3)
             FROM users WHERE lower(email) = lower($2) AND deactivated_at IS NULL
             RETURNING user_id, (SELECT email FROM users WHERE id = user_id) AS email",
            &[&token.hash().as_slice(), &email.as_str(), &(PASSWORD_RESET_TTL.as_secs() as f64)],
        )
        .await?;
    let Some(row) = row else { return Ok(accepted) };
    let to: String = row.get("email");
    let link = format!("{}/reset-password?token={}", platform.config.public_base_url, token.as_str());
    let mail = Email {
        to: vec![to],
        subject: "Reset your password".into(),
        text: format!(
            "Someone (hopefully you) asked to reset the password of your quiz account.\n\n\
             Open this link within an hour to choose a new one:\n{link}\n\n\
             If it was not you, ignore this mail; your password stays as it is."
        ),
        html: None,
        reply_to: None,
    };
    // The token is stored; should the queue be away, the user can ask again.
    queue_mail(platform, &mail, "password reset").await;
    Ok(accepted)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetConfirmation {
    token: String,
    new_password: String,
}

/// `POST /api/v1/auth/password-reset/confirm`: sets a new password with a reset token (once), ends every
/// session of the account, and signs in afresh.
pub async fn confirm_password_reset(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: ResetConfirmation = request.json()?;
    let invalid = || {
        ApiError::bad_request("invalid_reset_token", "the reset link is invalid, used or expired; ask for a new one")
    };
    let token = SessionToken::parse(&body.token).ok_or_else(invalid)?;
    // The token first: a made-up one must cost no hash. Its account's address, for the policy's check.
    let conn = platform.db.connection().await?;
    let email: Option<String> = conn
        .query_opt(
            "SELECT u.email FROM password_reset_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now() AND u.deactivated_at IS NULL",
            &[&token.hash().as_slice()],
        )
        .await?
        .ok_or_else(invalid)?
        .get("email");
    if let Err(e) = password::check_password_policy(&body.new_password, email.as_deref()) {
        return Err(field_error("new_password", e));
    }
    let key = &platform.config.identity.client_hash_key;
    limits::hit(&conn, key, limits::RESET_CONFIRMS_PER_ADDRESS, limits::client_address(&request)).await?.or_refuse()?;
    let hash = hash_in_background(body.new_password).await?;
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let row = tx
        .query_opt(
            "UPDATE password_reset_tokens SET used_at = now()
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
               AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL)
             RETURNING user_id",
            &[&token.hash().as_slice()],
        )
        .await?;
    let Some(row) = row else { return Err(invalid()) };
    let user_id: i64 = row.get("user_id");
    tx.execute("UPDATE users SET password_hash = $2 WHERE id = $1", &[&user_id, &hash]).await?;
    let ended = tx.query("DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash", &[&user_id]).await?;
    tx.commit().await?;
    let keys: Vec<String> =
        ended.iter().map(|r| format!("session:{}", hex::encode(r.get::<_, Vec<u8>>("token_hash")))).collect();
    platform.cache.delete(&keys.iter().map(String::as_str).collect::<Vec<_>>()).await;
    start_session(platform, &request, user_id, false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn addresses_are_checked_once_at_the_edge() {
        assert_eq!(EmailAddress::parse(" ada@example.com ").unwrap().as_str(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
        ] {
            assert!(EmailAddress::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_bearer_token_wins_over_the_cookie() {
        let mut r = ApiRequest::new(Method::GET, "/api/v1/me");
        r.headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; session=fromcookie"));
        assert_eq!(presented_token(&r).as_deref(), Some("fromcookie"));
        r.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer frombearer"));
        assert_eq!(presented_token(&r).as_deref(), Some("frombearer"));
        r.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(presented_token(&r).as_deref(), Some("fromcookie"), "another scheme leaves the cookie to decide");
        r.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(presented_token(&r).as_deref(), Some(""), "an empty bearer is presented, and invalid");
    }

    #[test]
    fn the_decoy_hash_is_a_real_argon2id_hash() {
        assert!(decoy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!password::verify_password("", &decoy_hash()));
    }
}
