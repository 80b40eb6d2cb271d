//! The leaderboard (DOMAIN §3): players by rating, then solved count, then who got there first.
//!
//! The ranking lives in a Redis sorted set, `leaderboard`, whose score packs rating and solved count into one
//! exact integer (`rating · 2^20 + solved`; both only ever grow). Every counted answer moves its player with
//! `ZADD GT`, so updates that arrive out of order, or race a rebuild, still leave each player at their best —
//! which is their current — standing. A marker member says the set is complete; without it (evicted, never built)
//! the set is rebuilt from PostgreSQL with one query, by one instance at a time.
//!
//! Reading the top 100 costs one Redis round trip and one SQL query for the rows' profiles. Ties in score are
//! broken by `rating_reached_at` in that same query; when ties straddle the 100th place, the query also picks
//! the earliest of the tied players through the ranking index, so the cost never grows with the number of
//! players. Filtered views (gender, age, favourite topic, online) are one indexed query each, and list public
//! profiles only: a private profile never appears in a list filtered by an attribute it hides.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::users::ONLINE_WINDOW;
use platform::Platform;
use platform::db::DbError;
use platform::http::{ApiError, ApiRequest, ApiResponse};

pub(crate) const KEY: &str = "leaderboard";
/// A member that sorts below every player and says the set holds every player.
const COMPLETE: &str = "complete";
const REBUILD_LOCK: &str = "leaderboard:rebuilding";
pub const MAX_ROWS: i64 = 100;
const SOLVED_BITS: u32 = 20;

/// A player's place-deciding totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub rating: i32,
    pub solved: i32,
}

impl Standing {
    pub fn score(self) -> f64 {
        ((self.rating as i64) << SOLVED_BITS | (self.solved as i64).min((1 << SOLVED_BITS) - 1)) as f64
    }

    pub fn from_score(score: f64) -> Self {
        let packed = score as i64;
        Standing { rating: (packed >> SOLVED_BITS) as i32, solved: (packed & ((1 << SOLVED_BITS) - 1)) as i32 }
    }
}

/// Moves a player after a counted answer. Part of a pipeline the caller runs, so it costs no extra round trip.
pub fn add_to(pipe: &mut redis::Pipeline, full_key: &str, user_id: i64, standing: Standing) {
    pipe.cmd("ZADD").arg(full_key).arg("GT").arg(standing.score()).arg(user_id).ignore();
}

pub fn full_key(platform: &Platform) -> String {
    platform.cache.key(KEY)
}

/// The filters of `GET /api/v1/leaderboard`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub gender: Option<String>,
    pub age: Option<AgeBracket>,
    pub topic_id: Option<i64>,
    pub online: bool,
}

impl Filters {
    fn any(&self) -> bool {
        self.gender.is_some() || self.age.is_some() || self.topic_id.is_some() || self.online
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBracket {
    From18To25,
    From26To35,
    From36To45,
    From46,
}

impl AgeBracket {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "18-25" => Some(Self::From18To25),
            "26-35" => Some(Self::From26To35),
            "36-45" => Some(Self::From36To45),
            "46+" | "46" => Some(Self::From46),
            _ => None,
        }
    }

    /// Inclusive ages.
    fn bounds(self) -> (i32, i32) {
        match self {
            Self::From18To25 => (18, 25),
            Self::From26To35 => (26, 35),
            Self::From36To45 => (36, 45),
            Self::From46 => (46, 200),
        }
    }
}

/// One row of the leaderboard. A private profile shows only its name and avatar.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub rank: usize,
    pub user_id: i64,
    pub name: String,
    pub avatar_url: Option<String>,
    pub is_public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    pub rating: i32,
    pub solved: i32,
    pub rating_reached_at: DateTime<Utc>,
}

/// Columns of a ranked row; `s` is `user_stats`, `u` is `users`.
const ROW_COLUMNS: &str = "u.id, u.first_name, u.last_name, u.username, coalesce(u.avatar_url, u.telegram_photo_url) AS avatar_url, u.is_public, \
     u.grade, s.rating, s.solved, s.rating_reached_at";
const ORDER: &str = "s.rating DESC, s.solved DESC, s.rating_reached_at, s.user_id";

fn row_from(r: &tokio_postgres::Row, rank: usize) -> Row {
    let id: i64 = r.get("id");
    let first: Option<String> = r.get("first_name");
    let last: Option<String> = r.get("last_name");
    let username: Option<String> = r.get("username");
    let is_public: bool = r.get("is_public");
    let full = [first.as_deref(), last.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = if !full.trim().is_empty() { full } else { username.clone().unwrap_or_else(|| format!("User {id}")) };
    Row {
        rank,
        user_id: id,
        name,
        avatar_url: r.get("avatar_url"),
        is_public,
        username: if is_public { username } else { None },
        grade: if is_public { r.get("grade") } else { None },
        rating: r.get("rating"),
        solved: r.get("solved"),
        rating_reached_at: r.get("rating_reached_at"),
    }
}

/// The top rows from PostgreSQL alone: the truth, and the answer when Redis is away or a filter is given.
pub async fn from_database(platform: &Platform, filters: &Filters, limit: i64) -> Result<Vec<Row>, DbError> {
    let conn = platform.db.connection().await?;
    let (min_age, max_age) = filters.age.map(AgeBracket::bounds).map_or((None, None), |(a, b)| (Some(a), Some(b)));
    let online_seconds = ONLINE_WINDOW.as_secs() as f64;
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM user_stats s JOIN users u ON u.id = s.user_id
         WHERE u.deactivated_at IS NULL
           AND ($1::text IS NULL OR u.gender = $1)
           AND ($2::int IS NULL OR u.birth_date <= (current_date - make_interval(years => $2))::date)
           AND ($3::int IS NULL OR u.birth_date > (current_date - make_interval(years => $3 + 1))::date)
           AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM user_favourite_topics f WHERE f.user_id = u.id AND f.topic_id = $4))
           AND (NOT $5 OR u.last_seen_at > now() - make_interval(secs => $6))
           AND (NOT $8 OR u.is_public)
         ORDER BY {ORDER} LIMIT $7"
    );
    // A private profile hides its gender, age, favourite topics and presence: listing it under a filter by one
    // of them would tell what it hides, so a filtered list has public profiles only.
    let filtered = filters.any();
    let rows = conn
        .query(
            &sql,
            &[
                &filters.gender,
                &min_age,
                &max_age,
                &filters.topic_id,
                &filters.online,
                &online_seconds,
                &limit,
                &filtered,
            ],
        )
        .await?;
    Ok(rows.iter().enumerate().map(|(i, r)| row_from(r, i + 1)).collect())
}

/// The unfiltered top rows through the sorted set; falls back to PostgreSQL when Redis cannot answer.
async fn from_cache(platform: &Platform, limit: i64) -> Result<Vec<Row>, DbError> {
    let Some(mut conn) = platform.cache.raw().await else {
        return from_database(platform, &Filters::default(), limit).await;
    };
    let key = full_key(platform);
    // The marker sorts lowest, so the top `limit` players and the marker's presence come in one round trip.
    let read: Result<(Vec<(String, f64)>, Option<f64>), _> = redis::pipe()
        .zrevrange_withscores(&key, 0, (limit - 1) as isize)
        .zscore(&key, COMPLETE)
        .query_async(&mut conn)
        .await;
    let (top, complete) = match read {
        Ok(r) => r,
        Err(e) => {
            platform.cache.report_failure("zrevrange", &key, &e);
            return from_database(platform, &Filters::default(), limit).await;
        }
    };
    if complete.is_none() {
        platform::telemetry::count_cache_miss();
        return rebuild(platform, limit).await;
    }
    platform::telemetry::count_cache_hit();
    let players: Vec<(i64, Standing)> = top
        .iter()
        .filter_map(|(member, score)| Some((member.parse::<i64>().ok()?, Standing::from_score(*score))))
        .collect();
    let Some(&(_, boundary)) = players.last() else { return Ok(Vec::new()) };
    // Players strictly above the boundary score are in; of those tied at it, the earliest to get there are.
    let above: Vec<i64> = players.iter().filter(|(_, s)| *s != boundary).map(|(id, _)| *id).collect();
    let tied_slots = limit - above.len() as i64;
    let sql = format!(
        "SELECT * FROM (
             SELECT {ROW_COLUMNS} FROM user_stats s JOIN users u ON u.id = s.user_id
             WHERE s.user_id = ANY($1) AND u.deactivated_at IS NULL
             UNION ALL
             (SELECT {ROW_COLUMNS} FROM user_stats s JOIN users u ON u.id = s.user_id
              WHERE s.rating = $2 AND s.solved = $3 AND u.deactivated_at IS NULL ORDER BY {ORDER} LIMIT $4)
         ) ranked
         ORDER BY rating DESC, solved DESC, rating_reached_at, id"
    );
    let rows =
        platform.db.connection().await?.query(&sql, &[&above, &boundary.rating, &boundary.solved, &tied_slots]).await?;
    if rows.len() < players.len() {
        // A player of the page is gone (deactivated): the set cannot fill the page, PostgreSQL can.
        return from_database(platform, &Filters::default(), limit).await;
    }
    Ok(rows.iter().enumerate().map(|(i, r)| row_from(r, i + 1)).collect())
}

/// Rebuilds the sorted set from PostgreSQL and answers from the same rows: one query. Only one instance rebuilds
/// at a time; the others answer from PostgreSQL meanwhile.
async fn rebuild(platform: &Platform, limit: i64) -> Result<Vec<Row>, DbError> {
    if !platform.cache.set_once(REBUILD_LOCK, Duration::from_secs(30)).await {
        return from_database(platform, &Filters::default(), limit).await;
    }
    let conn = platform.db.connection().await?;
    let sql = format!(
        "SELECT {ROW_COLUMNS}, u.deactivated_at IS NOT NULL AS deactivated FROM user_stats s JOIN users u ON u.id = s.user_id ORDER BY {ORDER}"
    );
    let rows = conn.query(&sql, &[]).await?;
    let key = full_key(platform);
    if let Some(mut redis) = platform.cache.raw().await {
        let mut pipe = redis::pipe();
        for chunk in rows.chunks(1000) {
            let mut cmd = redis::cmd("ZADD");
            cmd.arg(&key).arg("GT");
            for r in chunk {
                cmd.arg(Standing { rating: r.get("rating"), solved: r.get("solved") }.score())
                    .arg(r.get::<_, i64>("id"));
            }
            pipe.add_command(cmd).ignore();
        }
        pipe.cmd("ZADD").arg(&key).arg(-1).arg(COMPLETE).ignore();
        pipe.del(platform.cache.key(REBUILD_LOCK)).ignore();
        if let Err(e) = pipe.query_async::<()>(&mut redis).await {
            platform.cache.report_failure("leaderboard rebuild", &key, &e);
        }
    }
    let active = rows.iter().filter(|r| !r.get::<_, bool>("deactivated"));
    Ok(active.take(limit as usize).enumerate().map(|(i, r)| row_from(r, i + 1)).collect())
}

/// Forgets the whole sorted set (operations; tests of the rebuild).
pub async fn forget(platform: &Platform) -> bool {
    platform.cache.delete(&[KEY]).await
}

fn parse_filters(request: &ApiRequest) -> Result<(Filters, i64), ApiError> {
    let bad = |name: &str, problem: &str| {
        ApiError::bad_request("invalid_query", format!("`{name}` {problem}")).with_field(name, problem)
    };
    let gender = match request.query_param("gender") {
        None => None,
        Some(g @ ("male" | "female" | "other")) => Some(g.to_string()),
        Some(_) => return Err(bad("gender", "must be one of male, female, other")),
    };
    let age = match request.query_param("age") {
        None => None,
        Some(raw) => Some(AgeBracket::parse(raw).ok_or_else(|| bad("age", "must be one of 18-25, 26-35, 36-45, 46+"))?),
    };
    let topic_id = request.query_int("topic", 1, i64::MAX)?;
    let online = match request.query_param("online") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(bad("online", "must be true or false")),
    };
    let limit = request.query_int("limit", 1, MAX_ROWS)?.unwrap_or(MAX_ROWS);
    Ok((Filters { gender, age, topic_id, online }, limit))
}

/// `GET /api/v1/leaderboard?gender=&age=&topic=&online=&limit=`.
pub async fn route(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (filters, limit) = parse_filters(&request)?;
    let rows = if filters.any() {
        from_database(platform, &filters, limit).await?
    } else {
        from_cache(platform, limit).await?
    };
    Ok(ApiResponse::ok(&serde_json::json!({ "rows": rows })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_orders_by_rating_then_solved_and_round_trips() {
        let a = Standing { rating: 50, solved: 1 };
        let b = Standing { rating: 50, solved: 5 };
        let c = Standing { rating: 60, solved: 1 };
        assert!(a.score() < b.score() && b.score() < c.score());
        for s in [a, b, c, Standing { rating: 25_000_000, solved: 999_999 }] {
            assert_eq!(Standing::from_score(s.score()), s);
        }
    }

    #[test]
    fn age_brackets_are_the_documented_ones() {
        assert_eq!(AgeBracket::parse("18-25").unwrap().bounds(), (18, 25));
        assert_eq!(AgeBracket::parse("46+").unwrap().bounds().0, 46);
        assert!(AgeBracket::parse("17-20").is_none());
    }
}
