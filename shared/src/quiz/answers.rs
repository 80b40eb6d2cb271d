//! Answering a task (DOMAIN §3).
//!
//! A player's first answer to a task decides solved or failed; later answers are practice, counted as attempts
//! only. One SQL statement records everything: the first answer (whose primary key makes two concurrent first
//! answers count once), the attempt, and the running totals in `user_stats` (rating, streaks), under the row lock
//! of that user's totals so concurrent answers to different tasks add up. The caches that depend on the player
//! are then forgotten and the leaderboard's sorted set is moved, in one Redis round trip.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::identity::Viewer;
use crate::quiz::catalogue::{self, OptionShare, StoredTask, option_shares};
use crate::quiz::{Language, leaderboard, stats};
use platform::Platform;
use platform::db::DbError;
use platform::http::{ApiError, ApiRequest, ApiResponse};

/// What the player chose.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    #[serde(default)]
    option_index: Option<i64>,
    #[serde(default)]
    dont_know: Option<bool>,
    /// The language whose options the player saw; their profile language when absent.
    #[serde(default)]
    language: Option<String>,
}

/// The answer's outcome, as the player sees it.
#[derive(Debug, Serialize)]
pub struct AnswerOutcome {
    pub task_id: i64,
    pub correct: bool,
    /// True when this was the first answer, which alone decides solved/failed and rating.
    pub counted: bool,
    pub chosen_index: Option<i16>,
    pub correct_index: i16,
    pub correct_option: String,
    pub explanation: Option<String>,
    pub total_first_answers: i64,
    pub option_shares: Vec<OptionShare>,
    pub rating: i32,
    pub solved: i32,
}

/// Records the first answer (when it is one), the attempt and the running totals in one statement. The shares
/// are read from the statement's snapshot, which does not yet see this answer.
const RECORD_ANSWER: &str = "
WITH first AS (
    INSERT INTO task_results (user_id, task_id, language, chosen, solved)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (user_id, task_id) DO NOTHING
    RETURNING solved
), outcome AS (
    SELECT EXISTS (SELECT 1 FROM first) AS counted
), attempt AS (
    INSERT INTO attempts (user_id, task_id, language, chosen, is_correct, counted)
    SELECT $1, $2, $3, $4, $5, counted FROM outcome
), totals AS (
    INSERT INTO user_stats AS s (user_id, attempts, solved, failed, rating, current_streak, best_streak)
    SELECT $1, 1, (counted AND $5)::int, (counted AND NOT $5)::int, CASE WHEN counted AND $5 THEN $6 ELSE 0 END,
           (counted AND $5)::int, (counted AND $5)::int
    FROM outcome
    ON CONFLICT (user_id) DO UPDATE SET
        attempts = s.attempts + 1,
        solved = s.solved + EXCLUDED.solved,
        failed = s.failed + EXCLUDED.failed,
        rating = s.rating + EXCLUDED.rating,
        current_streak = CASE WHEN EXCLUDED.solved = 1 THEN s.current_streak + 1
                              WHEN EXCLUDED.failed = 1 THEN 0
                              ELSE s.current_streak END,
        best_streak = GREATEST(s.best_streak, CASE WHEN EXCLUDED.solved = 1 THEN s.current_streak + 1 ELSE 0 END),
        rating_reached_at = CASE WHEN EXCLUDED.solved = 1 THEN now() ELSE s.rating_reached_at END
    RETURNING rating, solved
)
SELECT (SELECT counted FROM outcome) AS counted,
       (SELECT rating FROM totals) AS rating,
       (SELECT solved FROM totals) AS solved,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(chosen, n)), '[]'::jsonb)
          FROM (SELECT chosen, count(*) AS n FROM task_results WHERE task_id = $2 AND language = $3 GROUP BY chosen) shares)
         AS shares";

/// What recording one answer did.
#[derive(Debug)]
pub struct Recorded {
    pub correct: bool,
    /// True when this was the player's first answer to the task.
    pub counted: bool,
    /// The player's totals after the answer.
    pub rating: i32,
    pub solved: i32,
    /// First answers per chosen index (`None`: "I don't know"), this answer included once when it counted.
    pub counts: BTreeMap<Option<i16>, i64>,
}

/// Records one answer by a player, whatever client it came from (the web, the Mini App, a channel poll), and
/// forgets what it changes in the cache. `chosen` is an index into the options in `language`'s stored order.
pub async fn record(
    platform: &Platform,
    user_id: i64,
    task: &StoredTask,
    language: &Language,
    chosen: Option<i16>,
) -> Result<Recorded, DbError> {
    let correct = chosen == Some(task.correct_index);
    let conn = platform.db.connection().await?;
    let row = conn
        .query_one(
            RECORD_ANSWER,
            &[&user_id, &task.id, &language.as_str(), &chosen, &correct, &task.difficulty.weight()],
        )
        .await?;
    let counted: bool = row.get("counted");
    let rating: i32 = row.get("rating");
    let solved: i32 = row.get("solved");
    let mut snapshot: serde_json::Value = row.get("shares");
    if !counted {
        // The statement's snapshot predates a first answer committed concurrently (by this player, in another
        // request, or by anyone): read the shares again, now.
        snapshot = conn
            .query_one(
                "SELECT coalesce(jsonb_agg(jsonb_build_array(chosen, n)), '[]'::jsonb) AS shares
                 FROM (SELECT chosen, count(*) AS n FROM task_results WHERE task_id = $1 AND language = $2 GROUP BY chosen) shares",
                &[&task.id, &language.as_str()],
            )
            .await?
            .get("shares");
    }
    let mut counts: BTreeMap<Option<i16>, i64> = BTreeMap::new();
    for pair in snapshot.as_array().into_iter().flatten() {
        let index = pair.get(0).and_then(serde_json::Value::as_i64).map(|i| i as i16);
        *counts.entry(index).or_default() += pair.get(1).and_then(serde_json::Value::as_i64).unwrap_or(0);
    }
    if counted {
        *counts.entry(chosen).or_default() += 1;
    }
    stats::forget_after_answer(platform, user_id, counted.then_some(leaderboard::Standing { rating, solved })).await;
    Ok(Recorded { correct, counted, rating, solved, counts })
}

/// `POST /api/v1/tasks/{task_id}/answer` with `{"option_index": n}` or `{"dont_know": true}`.
pub async fn submit_answer(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let task_id = request.path_id("task_id")?;
    let viewer = Viewer::authenticate(platform, &request).await?;
    let body: AnswerBody = request.json()?;
    let language = match body.language.as_deref() {
        None => viewer.profile.language.clone(),
        Some(raw) => Language::parse(raw).ok_or_else(|| {
            ApiError::bad_request("validation_failed", "`language` must be a two-letter language code")
                .with_field("language", "must be a two-letter language code")
        })?,
    };
    let task = catalogue::published_task(platform, task_id, &language)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no published task {task_id} in language '{language}'")))?;
    let chosen: Option<i16> = match (body.option_index, body.dont_know) {
        (Some(i), None | Some(false)) if (0..task.options.len() as i64).contains(&i) => Some(i as i16),
        (Some(_), None | Some(false)) => {
            let problem = format!("must be from 0 to {}", task.options.len() - 1);
            return Err(ApiError::bad_request("validation_failed", format!("`option_index` {problem}"))
                .with_field("option_index", &problem));
        }
        (None, Some(true)) => None,
        _ => {
            return Err(ApiError::bad_request(
                "validation_failed",
                "give exactly one of `option_index` or `\"dont_know\": true`",
            )
            .with_field("option_index", "give an option index, or `dont_know: true` instead"));
        }
    };
    let Recorded { correct, counted, rating, solved, counts } =
        record(platform, viewer.id(), &task, &language, chosen).await?;
    let (total_first_answers, option_shares) = option_shares(&task, &language, &counts);

    Ok(ApiResponse::ok(&AnswerOutcome {
        task_id,
        correct,
        counted,
        chosen_index: chosen,
        correct_index: task.correct_index,
        correct_option: task.options.get(task.correct_index as usize).cloned().unwrap_or_default(),
        explanation: task.explanation.clone(),
        total_first_answers,
        option_shares,
        rating,
        solved,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::Difficulty;

    fn task() -> StoredTask {
        StoredTask {
            id: 1,
            topic_id: 1,
            difficulty: Difficulty::Easy,
            question: "q".into(),
            options: vec!["a".into(), "b".into(), "c".into()],
            correct_index: 2,
            explanation: None,
            image_url: None,
            external_link: None,
        }
    }

    #[test]
    fn shares_cover_every_option_and_dont_know_and_add_up() {
        let counts = BTreeMap::from([(Some(0), 1), (Some(2), 2), (None, 1)]);
        let (total, shares) = option_shares(&task(), &Language::english(), &counts);
        assert_eq!(total, 4);
        let percents: Vec<f64> = shares.iter().map(|s| s.percent).collect();
        assert_eq!(percents, [25.0, 0.0, 50.0, 25.0]);
        assert_eq!(shares[3].index, None);
        assert_eq!(shares[3].option, "I don't know");
    }

    #[test]
    fn no_answers_means_zero_percent_not_a_division_by_zero() {
        let (total, shares) = option_shares(&task(), &Language::english(), &BTreeMap::new());
        assert_eq!(total, 0);
        assert!(shares.iter().all(|s| s.percent == 0.0));
    }
}
