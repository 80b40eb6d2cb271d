//! What readers do with the blog: list posts, read one, list categories, like or unlike, count a view.
//!
//! Readers see published posts only: a draft's slug answers 404 exactly like a slug that never existed. A view
//! counts once per reader and post per 24 hours; the reader is the signed-in user, else a SHA-256 of the client
//! address, so no address is stored or cached.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BLOG_KEY, BLOG_TTL, Category, Post, PostImage, published_post};
use crate::identity::{Viewer, limits};
use platform::Platform;
use platform::db::DbError;
use platform::http::{ApiError, ApiRequest, ApiResponse};

const MAX_SEARCH_CHARS: usize = 100;
const DEFAULT_PER_PAGE: i64 = 10;
pub const MAX_PER_PAGE: i64 = 50;
const MAX_PAGE: i64 = 10_000;
/// A reader's view of a post counts once in this window.
const VIEW_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A post in a list: enough to show a card, without the content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub category: Category,
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub views: i64,
    pub likes: i64,
    pub main_image: Option<PostImage>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostPage {
    pub posts: Vec<PostSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The `search` filter as an `ILIKE` pattern: the text anywhere, its wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

async fn load_page(
    platform: &Platform,
    category: Option<&str>,
    search: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<PostPage, DbError> {
    let pattern = search.map(contains_pattern);
    let from = "FROM posts p JOIN blog_categories c ON c.id = p.category_id";
    let filter = "WHERE p.published_at IS NOT NULL AND ($1::text IS NULL OR c.slug = $1) AND ($2::text IS NULL OR p.search_text ILIKE $2)";
    let conn = platform.db.connection().await?;
    let total: i64 = conn
        .query_one(&format!("SELECT count(*) AS total {from} {filter}"), &[&category, &pattern])
        .await?
        .get("total");
    let rows = conn
        .query(
            &format!(
                "SELECT p.id, p.slug, p.title, p.excerpt, p.published_at, p.featured, p.views, p.likes,
                        c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
                        mi.upload_id, mi.alt, u.processed_key, u.width, u.height
                 {from}
                 LEFT JOIN post_images mi ON mi.post_id = p.id AND mi.is_main
                 LEFT JOIN uploads u ON u.id = mi.upload_id
                 {filter}
                 ORDER BY p.published_at DESC, p.id DESC LIMIT $3 OFFSET $4"
            ),
            &[&category, &pattern, &per_page, &((page - 1) * per_page)],
        )
        .await?;
    let posts = rows
        .iter()
        .map(|r| {
            let key: Option<String> = r.get("processed_key");
            PostSummary {
                id: r.get("id"),
                slug: r.get("slug"),
                title: r.get("title"),
                excerpt: r.get("excerpt"),
                published_at: r.get("published_at"),
                featured: r.get("featured"),
                views: r.get("views"),
                likes: r.get("likes"),
                category: Category {
                    id: r.get("category_id"),
                    slug: r.get("category_slug"),
                    name: r.get("category_name"),
                },
                main_image: key.map(|key| PostImage {
                    upload_id: r.get("upload_id"),
                    url: platform.storage.public_url(&key),
                    main: true,
                    alt: r.get::<_, Option<String>>("alt").unwrap_or_default(),
                    width: r.get("width"),
                    height: r.get("height"),
                }),
            }
        })
        .collect();
    Ok(PostPage { posts, total, page, per_page })
}

/// `GET /api/v1/blog/posts?category=&search=&page=&per_page=`: published posts, newest first, one page of them with
/// the total. Lists without `search` are cached (their counters may lag by the cache's lifetime); searches are not,
/// there are too many of them to be worth keeping.
pub async fn list_posts(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let mut problems = BTreeMap::new();
    let page = request.query_int("page", 1, MAX_PAGE).unwrap_or_else(|e| {
        problems.extend(e.fields.unwrap_or_default());
        None
    });
    let per_page = request.query_int("per_page", 1, MAX_PER_PAGE).unwrap_or_else(|e| {
        problems.extend(e.fields.unwrap_or_default());
        None
    });
    let category = request.query_param("category");
    if category.is_some_and(|c| !super::is_valid_slug(c)) {
        problems.insert("category".into(), "must be a category slug such as \"rust-tips\"".into());
    }
    let search = request.query_param("search");
    if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
        problems.insert("search".into(), format!("must be at most {MAX_SEARCH_CHARS} characters"));
    }
    if !problems.is_empty() {
        let names: Vec<&str> = problems.keys().map(String::as_str).collect();
        let mut error =
            ApiError::bad_request("invalid_query", format!("invalid query parameters: {}", names.join(", ")));
        error.fields = Some(problems);
        return Err(error);
    }
    let (page, per_page) = (page.unwrap_or(1), per_page.unwrap_or(DEFAULT_PER_PAGE));
    let listed = match search {
        Some(search) => load_page(platform, category, Some(search), page, per_page).await?,
        None => {
            let field = format!("list:{}:{page}:{per_page}", category.unwrap_or("*"));
            platform
                .cache
                .hash_get_or_load(BLOG_KEY, &field, BLOG_TTL, || load_page(platform, category, None, page, per_page))
                .await?
        }
    };
    Ok(ApiResponse::ok(&listed))
}

/// `GET /api/v1/blog/categories`: every category, by name.
pub async fn list_categories(platform: &Platform, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let categories: Vec<Category> = platform
        .cache
        .hash_get_or_load(BLOG_KEY, "categories", BLOG_TTL, || async {
            let conn = platform.db.connection().await?;
            let rows = conn.query("SELECT id, slug, name FROM blog_categories ORDER BY lower(name), id", &[]).await?;
            Ok::<_, DbError>(
                rows.iter().map(|r| Category { id: r.get("id"), slug: r.get("slug"), name: r.get("name") }).collect(),
            )
        })
        .await?;
    Ok(ApiResponse::ok(&serde_json::json!({ "categories": categories })))
}

fn not_found(slug: &str) -> ApiError {
    ApiError::not_found(format!("there is no published post {slug:?}"))
}

/// The published post a route's `{slug}` names; 404 for a draft, a malformed or an unknown slug.
async fn post_of(platform: &Platform, request: &ApiRequest) -> Result<Post, ApiError> {
    let slug = request.path_params.get("slug").map(String::as_str).unwrap_or_default();
    published_post(platform, slug).await?.ok_or_else(|| not_found(slug))
}

/// A post as a reader reads it: its content and its live counters.
#[derive(Debug, Serialize)]
struct PostForReader {
    #[serde(flatten)]
    post: Post,
    views: i64,
    likes: i64,
    /// Whether the signed-in caller likes it; absent for anonymous callers.
    #[serde(skip_serializing_if = "Option::is_none")]
    liked: Option<bool>,
}

/// `GET /api/v1/blog/posts/{slug}`: a published post, with its counters (and, signed in, whether the caller likes it).
pub async fn get_post(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::optional(platform, &request).await?;
    let post = post_of(platform, &request).await?;
    let conn = platform.db.connection().await?;
    let user_id = viewer.as_ref().map(Viewer::id);
    let row = conn
        .query_opt(
            "SELECT views, likes, EXISTS (SELECT 1 FROM post_likes WHERE post_id = $1 AND user_id = $2) AS liked
               FROM posts WHERE id = $1 AND published_at IS NOT NULL",
            &[&post.id, &user_id],
        )
        .await?
        // Unpublished or deleted since it was cached: the invalidation is on its way.
        .ok_or_else(|| not_found(&post.slug))?;
    let liked = viewer.map(|_| row.get("liked"));
    Ok(ApiResponse::ok(&PostForReader { views: row.get("views"), likes: row.get("likes"), liked, post }))
}

/// What like and unlike answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct LikeState {
    pub post_id: i64,
    pub likes: i64,
    pub liked: bool,
}

/// `POST /api/v1/blog/posts/{slug}/like`: the caller likes the post. Liking twice is liking once: the like's row is
/// keyed by post and user, and the counter moves by the rows the same statement inserted.
pub async fn like(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    set_liked(platform, request, true).await
}

/// `DELETE /api/v1/blog/posts/{slug}/like`: the caller no longer likes the post; idempotent like [`like`].
pub async fn unlike(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    set_liked(platform, request, false).await
}

async fn set_liked(platform: &Platform, request: ApiRequest, liked: bool) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let post = post_of(platform, &request).await?;
    let statement = if liked {
        "WITH changed AS (INSERT INTO post_likes (post_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1)
         UPDATE posts SET likes = likes + (SELECT count(*) FROM changed) WHERE id = $1 AND published_at IS NOT NULL RETURNING likes"
    } else {
        "WITH changed AS (DELETE FROM post_likes WHERE post_id = $1 AND user_id = $2 RETURNING 1)
         UPDATE posts SET likes = likes - (SELECT count(*) FROM changed) WHERE id = $1 AND published_at IS NOT NULL RETURNING likes"
    };
    let conn = platform.db.connection().await?;
    let row = conn.query_opt(statement, &[&post.id, &viewer.id()]).await?.ok_or_else(|| not_found(&post.slug))?;
    Ok(ApiResponse::ok(&LikeState { post_id: post.id, likes: row.get("likes"), liked }))
}

/// Who is reading, for the once-a-day view: the user, else a keyed hash of the client address under a key of the
/// day (`CLIENT_HASH_KEY` and the UTC date), never the address: without the secret a hash cannot be reversed by
/// trying every IPv4 address, and yesterday's hashes cannot be linked to today's. (A reader whose 24 hours
/// cross midnight may be counted once more: the price of not keeping a linkable hash.)
fn reader_key(platform: &Platform, viewer: Option<&Viewer>, request: &ApiRequest) -> String {
    match viewer {
        Some(viewer) => format!("user:{}", viewer.id()),
        None => anonymous_reader(
            &platform.config.identity.client_hash_key,
            Utc::now().date_naive(),
            limits::client_address(request),
        ),
    }
}

fn anonymous_reader(key: &str, day: chrono::NaiveDate, address: &str) -> String {
    format!("ip:{}", hex::encode(limits::client_digest(key, &format!("blog-view:{day}"), address)))
}

/// What counting a view answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct ViewCount {
    pub post_id: i64,
    pub views: i64,
    /// Whether this call counted (false: this reader was counted in the last 24 hours).
    pub counted: bool,
}

/// `POST /api/v1/blog/posts/{slug}/view`: counts the reader's view once per 24 hours (a Redis `SET NX EX` gate,
/// then one UPDATE); answers the view count. Without Redis every view counts: a view count is not worth refusing
/// readers over.
pub async fn count_view(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::optional(platform, &request).await?;
    let post = post_of(platform, &request).await?;
    let reader = reader_key(platform, viewer.as_ref(), &request);
    let counted = platform.cache.set_once(&format!("blog_view:{}:{reader}", post.id), VIEW_WINDOW).await;
    let conn = platform.db.connection().await?;
    let statement = if counted {
        "UPDATE posts SET views = views + 1 WHERE id = $1 AND published_at IS NOT NULL RETURNING views"
    } else {
        "SELECT views FROM posts WHERE id = $1 AND published_at IS NOT NULL"
    };
    let row = conn.query_opt(statement, &[&post.id]).await?.ok_or_else(|| not_found(&post.slug))?;
    Ok(ApiResponse::ok(&ViewCount { post_id: post.id, views: row.get("views"), counted }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_reader_is_a_keyed_hash_of_the_address_that_changes_every_day() {
        use sha2::{Digest, Sha256};
        let key = "a-test-key-of-at-least-32-characters!";
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let reader = anonymous_reader(key, day, "203.0.113.7");
        // The plain digest anyone can compute for every IPv4 address is not what is kept.
        assert_ne!(reader, format!("ip:{}", hex::encode(Sha256::digest(b"203.0.113.7"))));
        assert_eq!(reader, anonymous_reader(key, day, "203.0.113.7"), "the same reader on the same day");
        assert_ne!(reader, anonymous_reader(key, day.succ_opt().unwrap(), "203.0.113.7"), "another day, another key");
        assert_ne!(reader, anonymous_reader("another-key-of-at-least-32-characters", day, "203.0.113.7"));
        assert_ne!(reader, anonymous_reader(key, day, "203.0.113.8"));
    }

    #[test]
    fn a_search_matches_its_text_literally_anywhere() {
        assert_eq!(contains_pattern("rust"), "%rust%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
