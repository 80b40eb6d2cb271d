//! The catalogue (DOMAIN §2): topics, subtopics and the task feed, as a player browses them.
//!
//! Content changes rarely and is read constantly, so every content read goes through one cache hash,
//! `catalogue`, one field per list (`topics:{lang}`, `subtopics:{topic}:{lang}`, `feed:{subtopic}:{lang}`,
//! `task:{id}:{lang}`). Importing or (un)publishing deletes that one key, so no list can outlive a change on any
//! instance. What depends on the player (what they answered) is read separately and never cached with content.
//!
//! The feed never carries the correct option or the explanation of a task the player has not answered: content is
//! cached whole, and [`FeedItem`] is the only shape a task leaves in.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::identity::Viewer;
use crate::quiz::{Difficulty, Language, dont_know_label};
use platform::Platform;
use platform::db::DbError;
use platform::http::{ApiError, ApiRequest, ApiResponse};

const CATALOGUE_KEY: &str = "catalogue";
const CATALOGUE_TTL: Duration = Duration::from_secs(600);
const USER_TOPICS_TTL: Duration = Duration::from_secs(300);
const MAX_SEARCH_CHARS: usize = 100;
pub const MAX_FEED_PAGE: i64 = 100;

/// Forgets every cached content list; called after an import or a (un)publish, once the change is committed.
pub async fn invalidate(platform: &Platform) {
    if !platform.cache.delete(&[CATALOGUE_KEY]).await {
        tracing::warn!("the catalogue may stay cached until Redis is back (at most {CATALOGUE_TTL:?})");
    }
}

/// The language a request asks for: `lang` when given (400 when malformed), else the player's, else English.
pub fn requested_language(request: &ApiRequest, viewer: Option<&Viewer>) -> Result<Language, ApiError> {
    match request.query_param("lang") {
        Some(raw) => Language::parse(raw).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "`lang` must be a two-letter language code such as \"en\"")
                .with_field("lang", "must be a two-letter language code")
        }),
        None => Ok(viewer.map(|v| v.profile.language.clone()).unwrap_or_else(Language::english)),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub icon: Option<String>,
    pub media_url: Option<String>,
    /// Published tasks with a translation in the requested language.
    pub task_count: i64,
}

#[derive(Serialize)]
struct TopicListItem<'a> {
    #[serde(flatten)]
    topic: &'a Topic,
    /// How many of the topic's tasks the player has answered; only for a signed-in player.
    #[serde(skip_serializing_if = "Option::is_none")]
    answered_count: Option<i64>,
}

async fn topics(platform: &Platform, language: &Language) -> Result<Vec<Topic>, DbError> {
    platform
        .cache
        .hash_get_or_load(CATALOGUE_KEY, &format!("topics:{language}"), CATALOGUE_TTL, || async {
            let conn = platform.db.connection().await?;
            let rows = conn
                .query(
                    "SELECT t.id, t.name, t.slug, t.description, t.icon, t.media_url, count(*) AS task_count
                     FROM topics t
                     JOIN tasks k ON k.topic_id = t.id AND k.published_at IS NOT NULL
                     JOIN task_translations tr ON tr.task_id = k.id AND tr.language = $1
                     GROUP BY t.id ORDER BY lower(t.name)",
                    &[&language.as_str()],
                )
                .await?;
            Ok(rows.iter().map(topic_from_row).collect())
        })
        .await
}

fn topic_from_row(r: &tokio_postgres::Row) -> Topic {
    Topic {
        id: r.get("id"),
        name: r.get("name"),
        slug: r.get("slug"),
        description: r.get("description"),
        icon: r.get("icon"),
        media_url: r.get("media_url"),
        task_count: r.get("task_count"),
    }
}

/// How many tasks of each topic a player has answered, cached until their next answer.
async fn answered_per_topic(platform: &Platform, user_id: i64) -> Result<HashMap<i64, i64>, DbError> {
    platform
        .cache
        .get_or_load(&user_topics_key(user_id), USER_TOPICS_TTL, || async {
            let conn = platform.db.connection().await?;
            let rows = conn
                .query(
                    "SELECT k.topic_id, count(*) AS answered FROM task_results r JOIN tasks k ON k.id = r.task_id
                     WHERE r.user_id = $1 GROUP BY k.topic_id",
                    &[&user_id],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get("topic_id"), r.get("answered"))).collect())
        })
        .await
}

pub(crate) fn user_topics_key(user_id: i64) -> String {
    format!("user_topics:{user_id}")
}

/// `GET /api/v1/topics?lang=&search=`: topics with at least one published task in the language, with counts.
pub async fn list_topics(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::optional(platform, &request).await?;
    let language = requested_language(&request, viewer.as_ref())?;
    let search = request.query_param("search").map(str::to_lowercase);
    if search.as_ref().is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("`search` must be at most {MAX_SEARCH_CHARS} characters"),
        )
        .with_field("search", "is too long"));
    }
    // Content and the player's counts are independent reads: one round trip's wait for both.
    let answered = async {
        match &viewer {
            Some(v) => answered_per_topic(platform, v.id()).await.map(Some),
            None => Ok(None),
        }
    };
    let (all, answered) = tokio::join!(topics(platform, &language), answered);
    let (all, answered) = (all?, answered?);
    let items: Vec<TopicListItem> = all
        .iter()
        .filter(|t| {
            search.as_ref().is_none_or(|s| t.name.to_lowercase().contains(s.as_str()) || t.slug.contains(s.as_str()))
        })
        .map(|topic| TopicListItem {
            topic,
            answered_count: answered.as_ref().map(|a| a.get(&topic.id).copied().unwrap_or(0)),
        })
        .collect();
    Ok(ApiResponse::ok(&serde_json::json!({ "language": language, "topics": items })))
}

/// One topic as `GET /api/v1/topics/{topic_id}` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopicDetail {
    #[serde(flatten)]
    pub topic: Topic,
    pub subtopic_count: i64,
}

async fn topic_detail(platform: &Platform, topic_id: i64, language: &Language) -> Result<Option<TopicDetail>, DbError> {
    platform
        .cache
        .hash_get_or_load_found(CATALOGUE_KEY, &format!("topic:{topic_id}:{language}"), CATALOGUE_TTL, || async {
            let conn = platform.db.connection().await?;
            let row = conn
                .query_opt(
                    "SELECT t.id, t.name, t.slug, t.description, t.icon, t.media_url,
                            (SELECT count(*) FROM tasks k JOIN task_translations tr ON tr.task_id = k.id AND tr.language = $2
                              WHERE k.topic_id = t.id AND k.published_at IS NOT NULL) AS task_count,
                            (SELECT count(DISTINCT k.subtopic_id) FROM tasks k JOIN task_translations tr ON tr.task_id = k.id AND tr.language = $2
                              WHERE k.topic_id = t.id AND k.published_at IS NOT NULL) AS subtopic_count
                     FROM topics t WHERE t.id = $1",
                    &[&topic_id, &language.as_str()],
                )
                .await?;
            Ok(row.map(|r| TopicDetail { topic: topic_from_row(&r), subtopic_count: r.get("subtopic_count") }))
        })
        .await
}

/// `GET /api/v1/topics/{topic_id}?lang=`.
pub async fn get_topic(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let topic_id = request.path_id("topic_id")?;
    let viewer = Viewer::optional(platform, &request).await?;
    let language = requested_language(&request, viewer.as_ref())?;
    let detail = topic_detail(platform, topic_id, &language)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no topic {topic_id}")))?;
    Ok(ApiResponse::ok(&serde_json::json!({ "language": language, "topic": detail })))
}

/// Task counts per difficulty.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PerDifficulty {
    pub easy: i64,
    pub medium: i64,
    pub hard: i64,
    pub total: i64,
}

impl PerDifficulty {
    fn add(&mut self, difficulty: Difficulty, n: i64) {
        match difficulty {
            Difficulty::Easy => self.easy += n,
            Difficulty::Medium => self.medium += n,
            Difficulty::Hard => self.hard += n,
        }
        self.total += n;
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subtopic {
    pub id: i64,
    pub name: String,
    pub task_counts: PerDifficulty,
}

async fn subtopics(platform: &Platform, topic_id: i64, language: &Language) -> Result<Vec<Subtopic>, DbError> {
    platform
        .cache
        .hash_get_or_load(CATALOGUE_KEY, &format!("subtopics:{topic_id}:{language}"), CATALOGUE_TTL, || async {
            let conn = platform.db.connection().await?;
            let rows = conn
                .query(
                    "SELECT s.id, s.name, k.difficulty, count(*) AS tasks
                     FROM subtopics s
                     JOIN tasks k ON k.subtopic_id = s.id AND k.published_at IS NOT NULL
                     JOIN task_translations tr ON tr.task_id = k.id AND tr.language = $2
                     WHERE s.topic_id = $1
                     GROUP BY s.id, s.name, k.difficulty ORDER BY lower(s.name), s.id",
                    &[&topic_id, &language.as_str()],
                )
                .await?;
            let mut list: Vec<Subtopic> = Vec::new();
            for r in &rows {
                let id: i64 = r.get("id");
                if list.last().is_none_or(|s| s.id != id) {
                    list.push(Subtopic { id, name: r.get("name"), task_counts: PerDifficulty::default() });
                }
                if let (Some(last), Some(d)) = (list.last_mut(), Difficulty::parse(r.get("difficulty"))) {
                    last.task_counts.add(d, r.get("tasks"));
                }
            }
            Ok(list)
        })
        .await
}

/// `GET /api/v1/topics/{topic_id}/subtopics?lang=`: subtopics with published tasks in the language, with counts
/// per difficulty and, for a signed-in player, how many of each they solved.
pub async fn list_subtopics(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let topic_id = request.path_id("topic_id")?;
    let viewer = Viewer::optional(platform, &request).await?;
    let language = requested_language(&request, viewer.as_ref())?;
    if topic_detail(platform, topic_id, &language).await?.is_none() {
        return Err(ApiError::not_found(format!("there is no topic {topic_id}")));
    }
    let list = subtopics(platform, topic_id, &language).await?;
    let solved: Option<HashMap<i64, PerDifficulty>> = match &viewer {
        None => None,
        Some(v) => {
            let conn = platform.db.connection().await?;
            let rows = conn
                .query(
                    "SELECT k.subtopic_id, k.difficulty, count(*) AS solved FROM task_results r JOIN tasks k ON k.id = r.task_id
                     WHERE r.user_id = $1 AND r.solved AND k.topic_id = $2 AND k.subtopic_id IS NOT NULL
                     GROUP BY k.subtopic_id, k.difficulty",
                    &[&v.id(), &topic_id],
                )
                .await?;
            let mut map: HashMap<i64, PerDifficulty> = HashMap::new();
            for r in &rows {
                if let Some(d) = Difficulty::parse(r.get("difficulty")) {
                    map.entry(r.get("subtopic_id")).or_default().add(d, r.get("solved"));
                }
            }
            Some(map)
        }
    };
    let items: Vec<serde_json::Value> = list
        .iter()
        .map(|s| {
            let mut item = serde_json::json!({ "id": s.id, "name": s.name, "task_counts": s.task_counts });
            if let Some(solved) = &solved {
                item["solved_counts"] = serde_json::json!(solved.get(&s.id).cloned().unwrap_or_default());
            }
            item
        })
        .collect();
    Ok(ApiResponse::ok(&serde_json::json!({ "language": language, "topic_id": topic_id, "subtopics": items })))
}

/// A task as the catalogue caches it. It holds the answer, so it never leaves this module as it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTask {
    pub id: i64,
    pub topic_id: i64,
    pub difficulty: Difficulty,
    pub question: String,
    pub options: Vec<String>,
    pub correct_index: i16,
    pub explanation: Option<String>,
    pub image_url: Option<String>,
    pub external_link: Option<String>,
}

const TASK_COLUMNS: &str = "k.id, k.topic_id, k.difficulty, tr.question, tr.options, tr.correct_index, tr.explanation, k.image_url, k.external_link";

fn task_from_row(r: &tokio_postgres::Row) -> StoredTask {
    StoredTask {
        id: r.get("id"),
        topic_id: r.get("topic_id"),
        difficulty: Difficulty::parse(r.get("difficulty")).unwrap_or(Difficulty::Easy),
        question: r.get("question"),
        options: r.get("options"),
        correct_index: r.get("correct_index"),
        explanation: r.get("explanation"),
        image_url: r.get("image_url"),
        external_link: r.get("external_link"),
    }
}

/// A published task in one language, through the cache; `None` when it does not exist, is a draft, or has no
/// translation in that language.
pub async fn published_task(
    platform: &Platform,
    task_id: i64,
    language: &Language,
) -> Result<Option<StoredTask>, DbError> {
    platform
        .cache
        .hash_get_or_load_found(CATALOGUE_KEY, &format!("task:{task_id}:{language}"), CATALOGUE_TTL, || async {
            let conn = platform.db.connection().await?;
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks k JOIN task_translations tr ON tr.task_id = k.id AND tr.language = $2
                 WHERE k.id = $1 AND k.published_at IS NOT NULL"
            );
            Ok(conn.query_opt(&sql, &[&task_id, &language.as_str()]).await?.map(|r| task_from_row(&r)))
        })
        .await
}

/// The published tasks of a subtopic in a language, oldest first; `None` when the subtopic does not exist.
async fn feed(platform: &Platform, subtopic_id: i64, language: &Language) -> Result<Option<Vec<StoredTask>>, DbError> {
    platform
        .cache
        .hash_get_or_load_found(CATALOGUE_KEY, &format!("feed:{subtopic_id}:{language}"), CATALOGUE_TTL, || async {
            let conn = platform.db.connection().await?;
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM subtopics s
                 LEFT JOIN tasks k ON k.subtopic_id = s.id AND k.published_at IS NOT NULL
                 LEFT JOIN task_translations tr ON tr.task_id = k.id AND tr.language = $2
                 WHERE s.id = $1 ORDER BY k.id"
            );
            let rows = conn.query(&sql, &[&subtopic_id, &language.as_str()]).await?;
            if rows.is_empty() {
                return Ok(None);
            }
            // The LEFT JOINs keep the subtopic's row when it has no task in this language; those rows carry NULLs.
            Ok(Some(
                rows.iter()
                    .filter(|r| {
                        r.get::<_, Option<i64>>("id").is_some() && r.get::<_, Option<String>>("question").is_some()
                    })
                    .map(task_from_row)
                    .collect(),
            ))
        })
        .await
}

/// A task as a player receives it: the answer and explanation only once they have answered.
#[derive(Debug, Serialize)]
pub struct FeedItem<'a> {
    pub id: i64,
    pub difficulty: Difficulty,
    pub question: &'a str,
    pub options: &'a [String],
    /// The localized "I don't know" choice, answered as `{"dont_know": true}`.
    pub dont_know_option: &'static str,
    pub image_url: Option<&'a str>,
    pub external_link: Option<&'a str>,
    pub answered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub your_answer: Option<YourAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct_index: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<&'a str>,
    /// Once answered: the first answers in this language, and each option's share of them (as the answer showed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_first_answers: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_shares: Option<Vec<OptionShare>>,
}

/// A player's first answer to a task: the option chosen (`null` for "I don't know") and whether it was right.
#[derive(Debug, Clone, Serialize)]
pub struct YourAnswer {
    /// In the order of `answered_in`'s options; `null` for "I don't know", or when answered in another language
    /// (whose options are ordered differently).
    pub chosen_index: Option<i16>,
    pub solved: bool,
    pub answered_in: Language,
}

impl StoredTask {
    pub fn for_player<'a>(&'a self, language: &Language, answer: Option<YourAnswer>) -> FeedItem<'a> {
        let answered = answer.is_some();
        FeedItem {
            id: self.id,
            difficulty: self.difficulty,
            question: &self.question,
            options: &self.options,
            dont_know_option: dont_know_label(language),
            image_url: self.image_url.as_deref(),
            external_link: self.external_link.as_deref(),
            answered,
            your_answer: answer,
            correct_index: answered.then_some(self.correct_index),
            explanation: if answered { self.explanation.as_deref() } else { None },
            total_first_answers: None,
            option_shares: None,
        }
    }
}

/// `GET /api/v1/subtopics/{subtopic_id}/tasks?lang=&difficulty=&limit=&offset=`: the task feed.
pub async fn task_feed(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let subtopic_id = request.path_id("subtopic_id")?;
    let viewer = Viewer::optional(platform, &request).await?;
    let language = requested_language(&request, viewer.as_ref())?;
    let difficulty = match request.query_param("difficulty") {
        None => None,
        Some(raw) => Some(Difficulty::parse(raw).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "`difficulty` must be one of easy, medium, hard")
                .with_field("difficulty", "must be easy, medium or hard")
        })?),
    };
    let limit = request.query_int("limit", 1, MAX_FEED_PAGE)?.unwrap_or(MAX_FEED_PAGE) as usize;
    let offset = request.query_int("offset", 0, 1_000_000)?.unwrap_or(0) as usize;
    let tasks = feed(platform, subtopic_id, &language)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no subtopic {subtopic_id}")))?;
    let matching: Vec<&StoredTask> = tasks.iter().filter(|t| difficulty.is_none_or(|d| t.difficulty == d)).collect();
    let page: Vec<&StoredTask> = matching.iter().skip(offset).take(limit).copied().collect();
    let mut answers: HashMap<i64, YourAnswer> = HashMap::new();
    // Per answered task: how many first answers in this language chose each option (`None`: "I don't know").
    let mut counts: HashMap<i64, BTreeMap<Option<i16>, i64>> = HashMap::new();
    if let (Some(v), false) = (&viewer, page.is_empty()) {
        let ids: Vec<i64> = page.iter().map(|t| t.id).collect();
        let conn = platform.db.connection().await?;
        let rows = conn
            .query(
                "SELECT task_id, chosen, solved, language FROM task_results WHERE user_id = $1 AND task_id = ANY($2)",
                &[&v.id(), &ids],
            )
            .await?;
        for r in &rows {
            let answered_in = Language::parse(r.get("language")).unwrap_or_else(Language::english);
            let chosen_index = if answered_in == language { r.get("chosen") } else { None };
            answers.insert(r.get("task_id"), YourAnswer { chosen_index, solved: r.get("solved"), answered_in });
        }
        if !answers.is_empty() {
            let answered: Vec<i64> = answers.keys().copied().collect();
            let rows = conn
                .query(
                    "SELECT task_id, chosen, count(*) AS answers FROM task_results WHERE task_id = ANY($1) AND language = $2 GROUP BY task_id, chosen",
                    &[&answered, &language.as_str()],
                )
                .await?;
            for r in &rows {
                counts.entry(r.get("task_id")).or_default().insert(r.get("chosen"), r.get("answers"));
            }
        }
    }
    let items: Vec<FeedItem> = page
        .iter()
        .map(|t| {
            let answer = answers.get(&t.id).cloned();
            let answered = answer.is_some();
            let mut item = t.for_player(&language, answer);
            if answered {
                let (total, shares) = option_shares(t, &language, &counts.remove(&t.id).unwrap_or_default());
                item.total_first_answers = Some(total);
                item.option_shares = Some(shares);
            }
            item
        })
        .collect();
    Ok(ApiResponse::ok(&serde_json::json!({
        "language": language,
        "subtopic_id": subtopic_id,
        "total": matching.len(),
        "offset": offset,
        "tasks": items,
    })))
}

/// One option's share of the first answers to the task in this language.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OptionShare {
    /// The option's index, or `null` for "I don't know".
    pub index: Option<i16>,
    pub option: String,
    pub count: i64,
    pub percent: f64,
}

/// Shares of each option among first answers. `counts` maps a chosen index (`None` for "I don't know") to how
/// many first answers chose it, already including this answer when it counted — so it is counted exactly once.
pub fn option_shares(
    task: &StoredTask,
    language: &Language,
    counts: &BTreeMap<Option<i16>, i64>,
) -> (i64, Vec<OptionShare>) {
    let total: i64 = counts.values().sum();
    let percent = |n: i64| if total == 0 { 0.0 } else { (n as f64 * 1000.0 / total as f64).round() / 10.0 };
    let mut shares: Vec<OptionShare> = task
        .options
        .iter()
        .enumerate()
        .map(|(i, option)| {
            let n = counts.get(&Some(i as i16)).copied().unwrap_or(0);
            OptionShare { index: Some(i as i16), option: option.clone(), count: n, percent: percent(n) }
        })
        .collect();
    let dont_know = counts.get(&None).copied().unwrap_or(0);
    shares.push(OptionShare {
        index: None,
        option: crate::quiz::dont_know_label(language).to_string(),
        count: dont_know,
        percent: percent(dont_know),
    });
    (total, shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> StoredTask {
        StoredTask {
            id: 7,
            topic_id: 1,
            difficulty: Difficulty::Medium,
            question: "What does `print(2 ** 3)` print?".into(),
            options: vec!["6".into(), "8".into(), "9".into()],
            correct_index: 1,
            explanation: Some("** is power".into()),
            image_url: None,
            external_link: None,
        }
    }

    #[test]
    fn an_unanswered_task_carries_neither_the_answer_nor_the_explanation() {
        let t = task();
        let json = serde_json::to_value(t.for_player(&Language::english(), None)).unwrap();
        assert!(json.get("correct_index").is_none(), "{json}");
        assert!(json.get("explanation").is_none(), "{json}");
        assert!(!json.to_string().contains("power"));
        assert_eq!(json["dont_know_option"], "I don't know");
    }

    #[test]
    fn an_answered_task_shows_the_answer_and_the_first_choice() {
        let t = task();
        let json = serde_json::to_value(t.for_player(
            &Language::parse("ru").unwrap(),
            Some(YourAnswer { chosen_index: None, solved: false, answered_in: Language::english() }),
        ))
        .unwrap();
        assert_eq!(json["correct_index"], 1);
        assert_eq!(json["explanation"], "** is power");
        assert_eq!(
            json["your_answer"],
            serde_json::json!({ "chosen_index": null, "solved": false, "answered_in": "en" })
        );
        assert_eq!(json["dont_know_option"], "Я не знаю");
        // Answered in the language it is shown in: the option chosen is shown.
        let same = t.for_player(
            &Language::english(),
            Some(YourAnswer { chosen_index: Some(0), solved: false, answered_in: Language::english() }),
        );
        let json = serde_json::to_value(same).unwrap();
        assert_eq!(json["your_answer"]["chosen_index"], 0, "{json}");
        assert_eq!(json["correct_index"], 1, "{json}");
    }
}
