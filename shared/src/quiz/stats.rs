//! Statistics (DOMAIN §3): a player's own, a public profile's, and the whole platform's.
//!
//! Running totals (attempts, solved, failed, rating, streaks) are kept in `user_stats` by the answer statement
//! itself, so personal statistics cost two indexed queries, never a scan of a player's history, and are cached
//! for five minutes under `user_stats:{user_id}` — deleted by every answer of that player.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::Viewer;
use crate::quiz::Language;
use crate::quiz::catalogue::user_topics_key;
use crate::quiz::leaderboard::{self, Standing};
use crate::users;
use platform::Platform;
use platform::db::DbError;
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::trigger::ReportFuture;
use platform::trigger::schedule::ScheduledRun;

const STATS_TTL: Duration = Duration::from_secs(300);
const GLOBAL_TTL: Duration = Duration::from_secs(300);
/// A favourite topic needs at least this many answered tasks.
const FAVOURITE_MIN_ATTEMPTS: i64 = 3;

fn stats_key(user_id: i64) -> String {
    format!("user_stats:{user_id}")
}

/// Progress in one topic: solved tasks against the topic's published tasks in the player's language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopicProgress {
    pub topic_id: i64,
    pub name: String,
    pub attempted: i64,
    pub solved: i64,
    pub published: i64,
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PersonalStats {
    pub user_id: i64,
    /// Tasks answered at least once.
    pub attempted: i64,
    pub solved: i64,
    pub failed: i64,
    /// Every answer, practice included.
    pub answers: i64,
    /// Percentage of answered tasks solved at the first answer, one decimal; `null` before the first answer.
    pub accuracy: Option<f64>,
    pub rating: i64,
    pub current_streak: i64,
    pub best_streak: i64,
    pub topics: Vec<TopicProgress>,
    pub favourite_topic: Option<TopicProgress>,
    pub achievements: Vec<Achievement>,
    pub computed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Achievement {
    pub code: String,
    pub title: String,
}

pub fn accuracy(solved: i64, attempted: i64) -> Option<f64> {
    (attempted > 0).then(|| (solved as f64 * 1000.0 / attempted as f64).round() / 10.0)
}

/// The best accuracy among topics with at least three answered tasks; ties go to the topic with more answers,
/// then to the name.
pub fn favourite_topic(topics: &[TopicProgress]) -> Option<TopicProgress> {
    topics
        .iter()
        .filter(|t| t.attempted >= FAVOURITE_MIN_ATTEMPTS)
        .max_by(|a, b| {
            let key = |t: &TopicProgress| (t.solved as f64 / t.attempted as f64, t.attempted);
            let (ra, na) = key(a);
            let (rb, nb) = key(b);
            ra.total_cmp(&rb).then(na.cmp(&nb)).then(b.name.cmp(&a.name))
        })
        .cloned()
}

/// The achievements the totals earn.
pub fn achievements(attempted: i64, solved: i64, best_streak: i64, topics: &[TopicProgress]) -> Vec<Achievement> {
    let mut earned = Vec::new();
    let mut earn = |code: &str, title: String| earned.push(Achievement { code: code.to_string(), title });
    if attempted >= 1 {
        earn("first_answer", "First answer".into());
    }
    if best_streak >= 3 {
        earn("streak_3", "Three in a row".into());
    }
    if best_streak >= 10 {
        earn("streak_10", "Ten in a row".into());
    }
    if attempted >= 20 && accuracy(solved, attempted).is_some_and(|a| a > 90.0) {
        earn("accuracy_90", "Over 90% accuracy across 20+ tasks".into());
    }
    for t in topics.iter().filter(|t| t.published > 0 && t.solved >= t.published) {
        earn("topic_complete", format!("Every task of {} solved", t.name));
    }
    earned
}

/// Personal statistics of a set of players, one row each: the running totals and the per-topic progress (in the
/// player's language) in one statement. `{players}` is a relation of `(id, lang)` rows.
const PERSONAL_SQL: &str = "
    SELECT u.id, coalesce(s.attempts, 0) AS attempts, coalesce(s.solved, 0) AS solved, coalesce(s.failed, 0) AS failed,
           coalesce(s.rating, 0) AS rating, coalesce(s.current_streak, 0) AS current_streak,
           coalesce(s.best_streak, 0) AS best_streak,
           coalesce((SELECT json_agg(json_build_object(
                        'topic_id', t.id, 'name', t.name, 'attempted', p.attempted, 'solved', p.solved,
                        'published', (SELECT count(*) FROM tasks k2
                                        JOIN task_translations tr ON tr.task_id = k2.id AND tr.language = u.lang
                                       WHERE k2.topic_id = t.id AND k2.published_at IS NOT NULL))
                      ORDER BY lower(t.name))
                     FROM (SELECT k.topic_id, count(*) AS attempted, count(*) FILTER (WHERE r.solved) AS solved
                             FROM task_results r JOIN tasks k ON k.id = r.task_id
                            WHERE r.user_id = u.id GROUP BY k.topic_id) p
                     JOIN topics t ON t.id = p.topic_id), '[]') AS progress
      FROM {players}
      LEFT JOIN user_stats s ON s.user_id = u.id";

/// One player: the relation is the given id and language.
const ONE_PLAYER: &str = "(SELECT $1::bigint AS id, $2::text AS lang) AS u";
/// The players seen since `$1`, in id order after `$2`, at most `$3`: a batch of the statistics refresh.
const RECENT_PLAYERS: &str = "(SELECT id, language AS lang FROM users
                               WHERE last_seen_at > $1 AND deactivated_at IS NULL AND id > $2
                               ORDER BY id LIMIT $3) AS u";

fn personal_stats(row: &tokio_postgres::Row) -> Result<PersonalStats, DbError> {
    #[derive(Deserialize)]
    struct Progress {
        topic_id: i64,
        name: String,
        attempted: i64,
        solved: i64,
        published: i64,
    }
    let progress: Vec<Progress> = serde_json::from_value(row.get("progress"))
        .map_err(|e| DbError::Unavailable(format!("per-topic progress: {e}")))?;
    let topics: Vec<TopicProgress> = progress
        .into_iter()
        .map(|p| TopicProgress {
            accuracy: accuracy(p.solved, p.attempted),
            topic_id: p.topic_id,
            name: p.name,
            attempted: p.attempted,
            solved: p.solved,
            published: p.published,
        })
        .collect();
    let (solved, failed, best_streak) = (
        row.get::<_, i32>("solved") as i64,
        row.get::<_, i32>("failed") as i64,
        row.get::<_, i32>("best_streak") as i64,
    );
    let attempted = solved + failed;
    Ok(PersonalStats {
        user_id: row.get("id"),
        attempted,
        solved,
        failed,
        answers: row.get("attempts"),
        accuracy: accuracy(solved, attempted),
        rating: row.get::<_, i32>("rating") as i64,
        current_streak: row.get::<_, i32>("current_streak") as i64,
        best_streak,
        favourite_topic: favourite_topic(&topics),
        achievements: achievements(attempted, solved, best_streak, &topics),
        topics,
        computed_at: Utc::now(),
    })
}

async fn load(platform: &Platform, user_id: i64, language: &Language) -> Result<PersonalStats, DbError> {
    let conn = platform.db.connection().await?;
    static SQL: LazyLock<String> = LazyLock::new(|| PERSONAL_SQL.replace("{players}", ONE_PLAYER));
    let row = conn.query_one(SQL.as_str(), &[&user_id, &language.as_str()]).await?;
    personal_stats(&row)
}

/// A player's statistics through the cache (in their profile language).
pub async fn personal(platform: &Platform, user_id: i64, language: &Language) -> Result<PersonalStats, DbError> {
    platform.cache.get_or_load(&stats_key(user_id), STATS_TTL, || load(platform, user_id, language)).await
}

/// After an answer: forgets the player's cached statistics and per-topic counts and, when the answer counted,
/// moves them on the leaderboard — one Redis round trip.
pub async fn forget_after_answer(platform: &Platform, user_id: i64, standing: Option<Standing>) {
    let (stats, topics) = (stats_key(user_id), user_topics_key(user_id));
    // Missed now, made good on the next contact: the player's keys go, and with them the leaderboard set, which
    // is rebuilt from PostgreSQL on its next read.
    let mut pipe = redis::pipe();
    pipe.del(&[platform.cache.key(&stats), platform.cache.key(&topics)]).ignore();
    if let Some(standing) = standing {
        leaderboard::add_to(&mut pipe, &leaderboard::full_key(platform), user_id, standing);
    }
    // Now, even during a cool-down (see `Cache::invalidate`): the player's next read must see this answer.
    if !platform.cache.invalidate("after answer", &pipe).await {
        tracing::warn!(user_id, "Redis is away: the player's cached statistics are deleted when it is back");
        platform.cache.defer_delete(&[&stats, &topics, leaderboard::KEY]);
    }
}

/// How long the scheduled refresh keeps what it computed: its next run (30 minutes on) renews it first.
const REFRESHED_TTL: Duration = Duration::from_secs(3600);
/// Players per statement of the scheduled refresh.
pub const REFRESH_BATCH: i64 = 500;

/// What one run of the statistics refresh did.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Refreshed {
    pub users: u64,
    pub batches: u64,
}

/// Recomputes `user_stats:{id}` of every player seen since `seen_since`, `batch` players per statement, so a
/// returning player's first statistics read is a cache hit. Cached for an hour; an answer still deletes its
/// player's entry at once.
pub async fn refresh_recent(platform: &Platform, seen_since: DateTime<Utc>, batch: i64) -> Result<Refreshed, DbError> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| PERSONAL_SQL.replace("{players}", RECENT_PLAYERS) + " ORDER BY u.id");
    let mut done = Refreshed { users: 0, batches: 0 };
    let mut after = 0_i64;
    loop {
        let rows = platform.db.connection().await?.query(SQL.as_str(), &[&seen_since, &after, &batch]).await?;
        let Some(last) = rows.last() else { break };
        after = last.get("id");
        let stats = rows.iter().map(personal_stats).collect::<Result<Vec<_>, _>>()?;
        let entries: Vec<(String, &PersonalStats)> = stats.iter().map(|s| (stats_key(s.user_id), s)).collect();
        platform.cache.set_many(&entries, REFRESHED_TTL).await;
        done.users += rows.len() as u64;
        done.batches += 1;
        if (rows.len() as i64) < batch {
            break;
        }
    }
    Ok(done)
}

/// The `update-user-statistics-cache` schedule: [`refresh_recent`] for the players seen in the last 24 hours.
pub fn refresh_job(platform: &'static Platform, run: ScheduledRun) -> ReportFuture {
    Box::pin(async move {
        let refreshed = refresh_recent(platform, run.time - chrono::Duration::hours(24), REFRESH_BATCH).await?;
        Ok(serde_json::to_value(refreshed)?)
    })
}

/// Forgets a player's cached statistics (their language changed, so the per-topic totals did too).
pub async fn forget_user(platform: &Platform, user_id: i64) {
    platform.cache.delete(&[&stats_key(user_id)]).await;
}

/// `GET /api/v1/me/stats`.
pub async fn my_stats(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let stats = personal(platform, viewer.id(), &viewer.profile.language).await?;
    Ok(ApiResponse::ok(&stats))
}

/// `GET /api/v1/users/{user_id}`: a public profile with statistics; a private one shows only name and avatar.
pub async fn user_profile(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user_id = request.path_id("user_id")?;
    let viewer = Viewer::optional(platform, &request).await?;
    let profile = users::profile(platform, user_id)
        .await?
        .filter(|p| p.deactivated_at.is_none())
        .ok_or_else(|| ApiError::not_found(format!("there is no user {user_id}")))?;
    let avatar = profile.avatar_url.clone().or_else(|| profile.telegram_photo_url.clone());
    let is_self = viewer.as_ref().is_some_and(|v| v.id() == user_id);
    if !profile.is_public && !is_self {
        return Ok(ApiResponse::ok(&serde_json::json!({
            "id": profile.id, "name": profile.display_name(), "avatar_url": avatar, "is_public": false,
        })));
    }
    let stats = personal(platform, user_id, &profile.language).await?;
    let age = profile.birth_date.and_then(|b| users::age_on(b, Utc::now().date_naive()));
    Ok(ApiResponse::ok(&serde_json::json!({
        "id": profile.id,
        "name": profile.display_name(),
        "username": profile.username,
        "avatar_url": avatar,
        "bio": profile.bio,
        "grade": profile.grade,
        "gender": profile.gender,
        "age": age,
        "favourite_topic_ids": profile.favourite_topic_ids,
        "is_public": profile.is_public,
        "online": profile.is_online(Utc::now()),
        "created_at": profile.created_at,
        "stats": stats,
    })))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DailyAttempts {
    pub day: NaiveDate,
    pub attempts: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopicTasks {
    pub topic_id: i64,
    pub name: String,
    pub tasks: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GlobalStats {
    pub users: i64,
    pub attempts: i64,
    /// Mean of the players' accuracies (players with at least one answered task), one decimal.
    pub average_accuracy: Option<f64>,
    /// The last 31 days, oldest first, days without answers included.
    pub attempts_per_day: Vec<DailyAttempts>,
    pub tasks_per_topic: Vec<TopicTasks>,
    pub computed_at: DateTime<Utc>,
}

async fn load_global(platform: &Platform) -> Result<GlobalStats, DbError> {
    let conn = platform.db.connection().await?;
    let totals = conn
        .query_one(
            "SELECT (SELECT count(*) FROM users WHERE deactivated_at IS NULL) AS users,
                    (SELECT count(*) FROM attempts) AS attempts,
                    (SELECT avg(solved::float8 / (solved + failed)) * 100 FROM user_stats WHERE solved + failed > 0)
                      AS average_accuracy",
            &[],
        )
        .await?;
    let days = conn
        .query(
            "SELECT d::date AS day, count(a.id) AS attempts
             FROM generate_series(current_date - 30, current_date, interval '1 day') d
             LEFT JOIN attempts a ON a.created_at >= d AND a.created_at < d + interval '1 day'
             GROUP BY d ORDER BY d",
            &[],
        )
        .await?;
    let topics = conn
        .query(
            "SELECT t.id, t.name, count(k.id) AS tasks FROM topics t LEFT JOIN tasks k ON k.topic_id = t.id AND k.published_at IS NOT NULL
             GROUP BY t.id, t.name ORDER BY lower(t.name)",
            &[],
        )
        .await?;
    Ok(GlobalStats {
        users: totals.get("users"),
        attempts: totals.get("attempts"),
        average_accuracy: totals.get::<_, Option<f64>>("average_accuracy").map(|a| (a * 10.0).round() / 10.0),
        attempts_per_day: days
            .iter()
            .map(|r| DailyAttempts { day: r.get("day"), attempts: r.get("attempts") })
            .collect(),
        tasks_per_topic: topics
            .iter()
            .map(|r| TopicTasks { topic_id: r.get("id"), name: r.get("name"), tasks: r.get("tasks") })
            .collect(),
        computed_at: Utc::now(),
    })
}

/// `GET /api/v1/stats`: the platform's statistics, cached for five minutes.
pub async fn global(platform: &Platform, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let stats = platform.cache.get_or_load("global_stats", GLOBAL_TTL, || load_global(platform)).await?;
    Ok(ApiResponse::ok(&stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str, attempted: i64, solved: i64, published: i64) -> TopicProgress {
        TopicProgress {
            topic_id: 1,
            name: name.into(),
            attempted,
            solved,
            published,
            accuracy: accuracy(solved, attempted),
        }
    }

    #[test]
    fn accuracy_is_a_percentage_with_one_decimal() {
        assert_eq!(accuracy(2, 3), Some(66.7));
        assert_eq!(accuracy(0, 0), None);
        assert_eq!(accuracy(5, 5), Some(100.0));
    }

    #[test]
    fn the_favourite_topic_needs_three_answers_and_the_best_accuracy() {
        let topics = [topic("Go", 2, 2, 10), topic("Python", 4, 3, 10), topic("SQL", 3, 3, 10)];
        assert_eq!(favourite_topic(&topics).unwrap().name, "SQL");
        assert!(favourite_topic(&[topic("Go", 2, 2, 10)]).is_none());
    }

    #[test]
    fn achievements_follow_the_documented_thresholds() {
        let codes = |a: Vec<Achievement>| a.into_iter().map(|a| a.code).collect::<Vec<_>>();
        assert!(codes(achievements(0, 0, 0, &[])).is_empty());
        assert_eq!(codes(achievements(1, 0, 0, &[])), ["first_answer"]);
        assert_eq!(codes(achievements(20, 19, 10, &[])), ["first_answer", "streak_3", "streak_10", "accuracy_90"]);
        assert_eq!(codes(achievements(20, 18, 3, &[])), ["first_answer", "streak_3"], "90% is not above 90%");
        assert_eq!(codes(achievements(2, 2, 2, &[topic("Go", 2, 2, 2)])), ["first_answer", "topic_complete"]);
    }
}
