//! The signed-in user's own profile: `GET` and `PATCH /api/v1/me`, removing an avatar, and the heartbeat that
//! marks them online.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use platform::Platform;
use platform::db::{Connection, DbError};
use platform::http::{ApiError, ApiRequest, ApiResponse};

use super::{HEARTBEAT_INTERVAL, MAX_FAVOURITE_TOPICS, Profile, age_on, check_text, invalidate, load};
use crate::identity::Viewer;
use crate::quiz::Language;

/// `GET /api/v1/me`.
pub async fn get_me(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let conn = platform.db.connection().await?;
    let avatars = avatars(platform, &conn, &viewer.profile).await?;
    Ok(ApiResponse::ok(&Me { profile: viewer.profile, avatars }))
}

/// The body of `PATCH /api/v1/me`: every field optional; `null` clears a field that may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChanges {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub username: Option<Option<String>>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub gender: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub birth_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub grade: Option<Option<String>>,
    #[serde(default)]
    pub favourite_topic_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub is_public: Option<bool>,
    /// One of the caller's avatars (`GET /api/v1/me`'s `avatars`) to show from now on.
    #[serde(default)]
    pub avatar_id: Option<String>,
}

/// Tells a field given as `null` (Some(None)) from a field left out (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Profile changes, checked: what [`update_me`] writes.
#[derive(Debug, Default, PartialEq)]
struct CheckedChanges {
    first_name: Option<String>,
    last_name: Option<Option<String>>,
    username: Option<Option<String>>,
    language: Option<Language>,
    bio: Option<Option<String>>,
    gender: Option<Option<String>>,
    birth_date: Option<Option<NaiveDate>>,
    grade: Option<Option<String>>,
    favourite_topic_ids: Option<Vec<i64>>,
    is_public: Option<bool>,
    avatar_id: Option<uuid::Uuid>,
}

fn bounded(text: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    check_text(text, max)?;
    Ok(text.to_string())
}

impl ProfileChanges {
    fn check(self, today: NaiveDate) -> Result<CheckedChanges, ApiError> {
        let mut problems = BTreeMap::new();
        let mut out = CheckedChanges::default();
        let mut note = |field: &str, e: String| {
            problems.insert(field.to_string(), e);
        };
        if let Some(name) = self.first_name {
            match bounded(&name, 128) {
                Ok(n) if n.is_empty() => note("first_name", "must not be empty".into()),
                Ok(n) => out.first_name = Some(n),
                Err(e) => note("first_name", e),
            }
        }
        if let Some(name) = self.last_name {
            match name.as_deref().map(|n| bounded(n, 128)).transpose() {
                Ok(n) => out.last_name = Some(n.filter(|n| !n.is_empty())),
                Err(e) => note("last_name", e),
            }
        }
        if let Some(username) = self.username {
            match username {
                None => out.username = Some(None),
                Some(u) => {
                    let u = u.trim();
                    let valid =
                        (3..=32).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if valid {
                        out.username = Some(Some(u.to_string()));
                    } else {
                        note("username", "must be 3 to 32 letters, digits or underscores".into());
                    }
                }
            }
        }
        if let Some(language) = self.language {
            match Language::parse(&language) {
                Some(l) => out.language = Some(l),
                None => note("language", "must be a two-letter language code such as \"en\"".into()),
            }
        }
        if let Some(bio) = self.bio {
            match bio.as_deref().map(|b| bounded(b, 1000)).transpose() {
                Ok(b) => out.bio = Some(b.filter(|b| !b.is_empty())),
                Err(e) => note("bio", e),
            }
        }
        if let Some(gender) = self.gender {
            match gender.as_deref() {
                None => out.gender = Some(None),
                Some(g @ ("male" | "female" | "other")) => out.gender = Some(Some(g.to_string())),
                Some(_) => note("gender", "must be one of male, female, other, or null".into()),
            }
        }
        if let Some(grade) = self.grade {
            match grade.as_deref() {
                None => out.grade = Some(None),
                Some(g @ ("junior" | "middle" | "senior")) => out.grade = Some(Some(g.to_string())),
                Some(_) => note("grade", "must be one of junior, middle, senior, or null".into()),
            }
        }
        if let Some(birth_date) = self.birth_date {
            match birth_date.as_deref().map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")) {
                None => out.birth_date = Some(None),
                Some(Ok(date)) if age_on(date, today).is_some_and(|age| (5..=120).contains(&age)) => {
                    out.birth_date = Some(Some(date))
                }
                Some(Ok(_)) => note("birth_date", "must make the user between 5 and 120 years old".into()),
                Some(Err(_)) => note("birth_date", "must be a date as YYYY-MM-DD".into()),
            }
        }
        if let Some(mut ids) = self.favourite_topic_ids {
            ids.sort_unstable();
            ids.dedup();
            if ids.len() > MAX_FAVOURITE_TOPICS {
                note("favourite_topic_ids", format!("must hold at most {MAX_FAVOURITE_TOPICS} topics"));
            } else {
                out.favourite_topic_ids = Some(ids);
            }
        }
        out.is_public = self.is_public;
        if let Some(id) = self.avatar_id {
            match uuid::Uuid::parse_str(id.trim()) {
                Ok(id) => out.avatar_id = Some(id),
                Err(_) => note("avatar_id", "must be the id of one of your avatars".into()),
            }
        }
        if problems.is_empty() { Ok(out) } else { Err(ApiError::validation(problems)) }
    }
}

/// `PATCH /api/v1/me`: changes the caller's profile, all or nothing.
pub async fn update_me(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let changes = request.json::<ProfileChanges>()?.check(Utc::now().date_naive())?;
    let user_id = viewer.profile.id;
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let updated = tx
        .execute(
            "UPDATE users SET
                 first_name = COALESCE($2, first_name),
                 last_name  = CASE WHEN $3 THEN $4 ELSE last_name END,
                 username   = CASE WHEN $5 THEN $6 ELSE username END,
                 language   = COALESCE($7, language),
                 bio        = CASE WHEN $8 THEN $9 ELSE bio END,
                 gender     = CASE WHEN $10 THEN $11 ELSE gender END,
                 birth_date = CASE WHEN $12 THEN $13 ELSE birth_date END,
                 grade      = CASE WHEN $14 THEN $15 ELSE grade END,
                 is_public  = COALESCE($16, is_public)
             WHERE id = $1",
            &[
                &user_id,
                &changes.first_name,
                &changes.last_name.is_some(),
                &changes.last_name.clone().flatten(),
                &changes.username.is_some(),
                &changes.username.clone().flatten(),
                &changes.language.as_ref().map(Language::as_str),
                &changes.bio.is_some(),
                &changes.bio.clone().flatten(),
                &changes.gender.is_some(),
                &changes.gender.clone().flatten(),
                &changes.birth_date.is_some(),
                &changes.birth_date.flatten(),
                &changes.grade.is_some(),
                &changes.grade.clone().flatten(),
                &changes.is_public,
            ],
        )
        .await;
    match updated {
        Err(e) if e.code() == Some("23505") => {
            return Err(ApiError::conflict("that username is taken").with_field("username", "is taken"));
        }
        other => other?,
    };
    if let Some(ids) = &changes.favourite_topic_ids {
        let existing: i64 =
            tx.query_one("SELECT count(*) AS existing FROM topics WHERE id = ANY($1)", &[ids]).await?.get("existing");
        if existing != ids.len() as i64 {
            return Err(ApiError::validation(BTreeMap::from([(
                "favourite_topic_ids".into(),
                "holds an id of a topic that does not exist".into(),
            )])));
        }
        tx.execute("DELETE FROM user_favourite_topics WHERE user_id = $1", &[&user_id]).await?;
        tx.execute(
            "INSERT INTO user_favourite_topics (user_id, topic_id) SELECT $1, unnest($2::bigint[])",
            &[&user_id, ids],
        )
        .await?;
    }
    if let Some(avatar_id) = changes.avatar_id {
        let key: Option<String> = tx
            .query_opt(
                "SELECT processed_key FROM uploads WHERE id = $1 AND user_id = $2 AND purpose = 'avatar' AND status = 'ready'",
                &[&avatar_id, &user_id],
            )
            .await?
            .map(|row| row.get("processed_key"));
        let Some(key) = key else {
            return Err(ApiError::validation(BTreeMap::from([(
                "avatar_id".into(),
                "is not one of your avatars".into(),
            )])));
        };
        tx.execute("UPDATE users SET avatar_url = $2 WHERE id = $1", &[&user_id, &platform.storage.public_url(&key)])
            .await?;
    }
    tx.commit().await?;
    after_write(platform, &conn, user_id).await
}

/// The answer to a write of the user's own row: the profile and avatars as now stored; then the cached copies are
/// forgotten.
async fn after_write(platform: &Platform, conn: &Connection, user_id: i64) -> Result<ApiResponse, ApiError> {
    let me = me(platform, conn, user_id).await?;
    invalidate(platform, user_id).await;
    crate::quiz::stats::forget_user(platform, user_id).await;
    Ok(ApiResponse::ok(&me))
}

/// One of the user's processed avatars (the newest [`crate::uploads::AVATARS_KEPT`] are kept).
#[derive(Debug, Clone, Serialize)]
pub struct Avatar {
    pub id: uuid::Uuid,
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// Whether it is the one shown (`avatar_url`).
    pub current: bool,
}

/// What the user sees of themselves: the profile and their avatars, newest first.
#[derive(Debug, Serialize)]
pub struct Me {
    #[serde(flatten)]
    pub profile: Profile,
    pub avatars: Vec<Avatar>,
}

/// The profile with the avatars, from the database (after a write, so never from the cache).
async fn me(platform: &Platform, conn: &Connection, user_id: i64) -> Result<Me, ApiError> {
    let profile = load(conn, user_id, &platform.config.identity.admin_telegram_ids)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    let avatars = avatars(platform, conn, &profile).await?;
    Ok(Me { profile, avatars })
}

async fn avatars(platform: &Platform, conn: &Connection, profile: &Profile) -> Result<Vec<Avatar>, DbError> {
    let rows = conn
        .query(
            "SELECT id, processed_key, processed_at FROM uploads
              WHERE user_id = $1 AND purpose = 'avatar' AND status = 'ready'
              ORDER BY processed_at DESC, id",
            &[&profile.id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let url = platform.storage.public_url(row.get("processed_key"));
            Avatar {
                id: row.get("id"),
                current: profile.avatar_url.as_deref() == Some(url.as_str()),
                url,
                created_at: row.get("processed_at"),
            }
        })
        .collect())
}

/// `DELETE /api/v1/me/avatars/{avatar_id}`: forgets one of the caller's avatars (the media clean-up deletes the
/// object). When it was the one shown, the newest remaining one is shown instead, or none.
pub async fn remove_avatar(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let avatar_id = request
        .path_params
        .get("avatar_id")
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .ok_or_else(|| ApiError::bad_request("invalid_path", "`avatar_id` must be a UUID"))?;
    let viewer = Viewer::authenticate(platform, &request).await?;
    let user_id = viewer.profile.id;
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let removed: Option<String> = tx
        .query_opt(
            "DELETE FROM uploads WHERE id = $1 AND user_id = $2 AND purpose = 'avatar' AND status = 'ready' RETURNING processed_key",
            &[&avatar_id, &user_id],
        )
        .await?
        .map(|row| row.get("processed_key"));
    let Some(key) = removed else {
        return Err(ApiError::not_found("you have no avatar with this id"));
    };
    let newest: Option<String> = tx
        .query_opt(
            "SELECT processed_key FROM uploads WHERE user_id = $1 AND purpose = 'avatar' AND status = 'ready'
              ORDER BY processed_at DESC, id LIMIT 1",
            &[&user_id],
        )
        .await?
        .map(|row| row.get("processed_key"));
    let newest = newest.map(|k| platform.storage.public_url(&k));
    tx.execute(
        "UPDATE users SET avatar_url = $3 WHERE id = $1 AND avatar_url = $2",
        &[&user_id, &platform.storage.public_url(&key), &newest],
    )
    .await?;
    tx.commit().await?;
    after_write(platform, &conn, user_id).await
}

/// `POST /api/v1/me/heartbeat`: marks the caller online. Writes `last_seen_at` at most once a minute per user,
/// gated in Redis first so most heartbeats cost no SQL at all.
pub async fn heartbeat(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let user_id = viewer.profile.id;
    let mut written = false;
    if platform.cache.set_once(&format!("heartbeat:{user_id}"), HEARTBEAT_INTERVAL).await {
        let conn = platform.db.connection().await?;
        written = conn
            .execute(
                "UPDATE users SET last_seen_at = now()
                 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')",
                &[&user_id],
            )
            .await?
            == 1;
        if written {
            invalidate(platform, user_id).await;
        }
    }
    Ok(ApiResponse::ok(&serde_json::json!({ "online": true, "recorded": written })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn changes(json: serde_json::Value) -> Result<CheckedChanges, ApiError> {
        serde_json::from_value::<ProfileChanges>(json)
            .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?
            .check(today())
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let c = changes(serde_json::json!({"bio": null, "first_name": " Ada "})).unwrap();
        assert_eq!(c.bio, Some(None));
        assert_eq!(c.first_name.as_deref(), Some("Ada"));
        assert_eq!(c.last_name, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = changes(serde_json::json!({
            "gender": "robot", "grade": "lead", "language": "english", "username": "a b",
            "birth_date": "1900-01-01", "bio": "x".repeat(1001), "first_name": ""
        }))
        .unwrap_err();
        let fields: Vec<&str> = err.fields.as_ref().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["bio", "birth_date", "first_name", "gender", "grade", "language", "username"]);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_value::<ProfileChanges>(serde_json::json!({"is_admin": true})).is_err());
    }
}
