//! Users and their profiles (DOMAIN §1): one table for everyone, however they signed in. The signed-in user's own
//! routes (`/api/v1/me…`) are in [`me`], above identity; this module is beneath it.
//!
//! The profile is read through the cache under `user:{id}` and the key is deleted by every write to the row, so
//! a change shows on the next request of any instance. Configured administrators (`ADMIN_TELEGRAM_IDS`) are
//! administrators whatever the row says.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use crate::quiz::Language;
use platform::Platform;
use platform::db::{Connection, DbError};

pub mod me;

const CACHE_TTL: Duration = Duration::from_secs(600);
/// At most this many favourite topics.
pub const MAX_FAVOURITE_TOPICS: usize = 10;
/// "Online" means seen within this long.
pub const ONLINE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// A heartbeat writes `last_seen_at` at most this often per user.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(60);

/// Everything the user sees of themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub telegram_id: Option<i64>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Language,
    pub avatar_url: Option<String>,
    pub telegram_photo_url: Option<String>,
    pub bio: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub grade: Option<String>,
    pub favourite_topic_ids: Vec<i64>,
    pub is_public: bool,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
}

pub(crate) const PROFILE_COLUMNS: &str = "u.id, u.telegram_id, u.email, u.username, u.first_name, u.last_name, u.language, \
     u.avatar_url, u.telegram_photo_url, u.bio, u.gender, u.birth_date, u.grade, \
     ARRAY(SELECT f.topic_id FROM user_favourite_topics f WHERE f.user_id = u.id ORDER BY f.topic_id) \
     AS favourite_topic_ids, \
     u.is_public, u.is_admin, u.created_at, u.last_seen_at, u.deactivated_at";

impl Profile {
    pub(crate) fn from_row(row: &Row, admin_telegram_ids: &[i64]) -> Self {
        let telegram_id: Option<i64> = row.get("telegram_id");
        let is_admin: bool = row.get("is_admin");
        Profile {
            id: row.get("id"),
            telegram_id,
            email: row.get("email"),
            username: row.get("username"),
            first_name: row.get("first_name"),
            last_name: row.get("last_name"),
            language: Language::parse(row.get("language")).unwrap_or_else(Language::english),
            avatar_url: row.get("avatar_url"),
            telegram_photo_url: row.get("telegram_photo_url"),
            bio: row.get("bio"),
            gender: row.get("gender"),
            birth_date: row.get("birth_date"),
            grade: row.get("grade"),
            favourite_topic_ids: row.get("favourite_topic_ids"),
            is_public: row.get("is_public"),
            is_admin: is_admin || telegram_id.is_some_and(|id| admin_telegram_ids.contains(&id)),
            created_at: row.get("created_at"),
            last_seen_at: row.get("last_seen_at"),
            deactivated_at: row.get("deactivated_at"),
        }
    }

    /// The name to show: first and last name, else the username, else "User {id}".
    pub fn display_name(&self) -> String {
        let full =
            [self.first_name.as_deref(), self.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        if !full.trim().is_empty() {
            full
        } else {
            self.username.clone().unwrap_or_else(|| format!("User {}", self.id))
        }
    }

    pub fn is_online(&self, now: DateTime<Utc>) -> bool {
        self.last_seen_at.is_some_and(|seen| (now - seen).to_std().is_ok_and(|age| age <= ONLINE_WINDOW))
    }
}

fn cache_key(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// A user's profile through the cache; `None` when there is no such user.
pub async fn profile(platform: &Platform, user_id: i64) -> Result<Option<Profile>, DbError> {
    platform
        .cache
        .get_or_load_found(&cache_key(user_id), CACHE_TTL, || async {
            let conn = platform.db.connection().await?;
            load(&conn, user_id, &platform.config.identity.admin_telegram_ids).await
        })
        .await
}

pub(crate) async fn load(conn: &Connection, user_id: i64, admins: &[i64]) -> Result<Option<Profile>, DbError> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM users u WHERE u.id = $1");
    Ok(conn.query_opt(&sql, &[&user_id]).await?.map(|row| Profile::from_row(&row, admins)))
}

/// Forgets the cached profile after a write to the user's row.
pub async fn invalidate(platform: &Platform, user_id: i64) {
    if !platform.cache.delete(&[&cache_key(user_id)]).await {
        tracing::warn!(user_id, "a changed profile may stay cached until Redis is back");
    }
}

/// A profile text: at most `max` characters and no control characters but line breaks (NUL included, which
/// PostgreSQL could not store anyway).
pub fn check_text(text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else if text.chars().any(|c| c.is_control() && c != '\n') {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

/// Whole years between a birth date and a day; `None` when born after it.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> Option<i32> {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    #[test]
    fn ages_count_whole_years() {
        let birth = NaiveDate::from_ymd_opt(2000, 11, 27).unwrap();
        assert_eq!(age_on(birth, today()), Some(25));
        assert_eq!(age_on(NaiveDate::from_ymd_opt(2000, 11, 26).unwrap(), today()), Some(26));
        assert_eq!(age_on(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(), today()), None);
    }
}
