//! Writing the blog: categories, and posts created, edited, published and deleted by administrators.
//!
//! Every write is all or nothing: the body is read field by field so that every bad field is named at once (wrong
//! type, out of bounds, unknown category, an image that is not the admin's ready post picture), and nothing is
//! written unless all of it passed. A taken slug is 409. Post HTML is sanitised here, before it is stored.
//!
//! Publishing a post, or changing a published post's title or category, makes its Open Graph image due: the same
//! UPDATE sets `og_requested_at`, and after the commit `post.published` is published (see [`super::og`]).

use std::collections::{BTreeMap, HashSet};

use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{Category, Post, PostRef, invalidate, is_valid_slug, load_post, og, sanitize_html};
use crate::identity::Viewer;
use platform::Platform;
use platform::db::{DbError, Transaction};
use platform::http::{ApiError, ApiRequest, ApiResponse};

const NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=100;
const TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
const MAX_EXCERPT_CHARS: usize = 500;
const MAX_META_DESCRIPTION_CHARS: usize = 300;
const MAX_CONTENT_CHARS: usize = 200_000;
const MAX_IMAGES: usize = 20;
const MAX_ALT_CHARS: usize = 300;

/// A JSON object body read field by field: each getter takes its field out and records what is wrong with it, so
/// one answer can name every bad field; [`Fields::finish`] adds the fields nobody asked for.
struct Fields {
    map: Map<String, Value>,
    problems: BTreeMap<String, String>,
}

impl Fields {
    fn parse(request: &ApiRequest) -> Result<Self, ApiError> {
        match request.json::<Value>()? {
            Value::Object(map) => Ok(Self { map, problems: BTreeMap::new() }),
            _ => Err(ApiError::bad_request("invalid_json", "the request body must be a JSON object")),
        }
    }

    fn problem(&mut self, field: &str, problem: impl Into<String>) {
        self.problems.entry(field.to_string()).or_insert_with(|| problem.into());
    }

    /// A field's value; `null` counts as absent.
    fn take(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field).filter(|v| !v.is_null())
    }

    /// A trimmed string whose length in characters is within `chars`.
    fn text(&mut self, field: &str, chars: std::ops::RangeInclusive<usize>) -> Option<String> {
        match self.take(field)? {
            Value::String(s) => {
                let s = s.trim().to_string();
                if chars.contains(&s.chars().count()) {
                    Some(s)
                } else {
                    self.problem(field, format!("must be {} to {} characters", chars.start(), chars.end()));
                    None
                }
            }
            _ => {
                self.problem(field, "must be a string");
                None
            }
        }
    }

    fn slug(&mut self, field: &str) -> Option<String> {
        let slug = self.text(field, 1..=super::MAX_SLUG_CHARS)?;
        if is_valid_slug(&slug) {
            Some(slug)
        } else {
            self.problem(
                field,
                "must be lower-case letters and digits in words joined by single hyphens, e.g. \"rust-tips\"",
            );
            None
        }
    }

    fn bool(&mut self, field: &str) -> Option<bool> {
        match self.take(field)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.problem(field, "must be true or false");
                None
            }
        }
    }

    fn id(&mut self, field: &str) -> Option<i64> {
        match self.take(field)?.as_i64().filter(|id| *id > 0) {
            Some(id) => Some(id),
            None => {
                self.problem(field, "must be a positive integer");
                None
            }
        }
    }

    /// `images`: `[{"upload_id", "main"?, "alt"?}]`, checked for shape here and against `uploads` later.
    fn images(&mut self) -> Option<Vec<ImageInput>> {
        let Value::Array(items) = self.take("images")? else {
            self.problem("images", "must be an array of {\"upload_id\", \"main\", \"alt\"}");
            return None;
        };
        if items.len() > MAX_IMAGES {
            self.problem("images", format!("must hold at most {MAX_IMAGES} images"));
            return None;
        }
        let mut images = Vec::with_capacity(items.len());
        let mut seen = HashSet::new();
        for (index, item) in items.into_iter().enumerate() {
            let at = |name: &str| format!("images[{index}].{name}");
            let Value::Object(mut item) = item else {
                self.problem(&format!("images[{index}]"), "must be an object {\"upload_id\", \"main\", \"alt\"}");
                continue;
            };
            let upload_id = item.remove("upload_id").and_then(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()));
            let main = match item.remove("main").unwrap_or(Value::Bool(false)) {
                Value::Bool(b) => Some(b),
                Value::Null => Some(false),
                _ => None,
            };
            let alt = match item.remove("alt").unwrap_or(Value::Null) {
                Value::String(s) if s.trim().chars().count() <= MAX_ALT_CHARS => Some(s.trim().to_string()),
                Value::Null => Some(String::new()),
                _ => None,
            };
            if upload_id.is_none() {
                self.problem(&at("upload_id"), "must be the id (a UUID) of an upload");
            } else if upload_id.is_some_and(|id| !seen.insert(id)) {
                self.problem(&at("upload_id"), "is listed twice");
            }
            if main.is_none() {
                self.problem(&at("main"), "must be true or false");
            }
            if alt.is_none() {
                self.problem(&at("alt"), format!("must be a string of at most {MAX_ALT_CHARS} characters"));
            }
            if let Some(unknown) = item.keys().next() {
                self.problem(&at(unknown), "is not a field of an image");
            }
            if let (Some(upload_id), Some(main), Some(alt)) = (upload_id, main, alt) {
                images.push(ImageInput { upload_id, main, alt });
            }
        }
        if images.iter().filter(|i| i.main).count() > 1 {
            self.problem("images", "at most one image can be the main one");
        }
        Some(images)
    }

    /// Names the fields that are not part of the body's shape, then fails when anything was wrong.
    fn finish(mut self) -> Result<(), ApiError> {
        let unknown: Vec<String> = self.map.keys().cloned().collect();
        for field in unknown {
            self.problem(&field, "is not a field of this request");
        }
        if self.problems.is_empty() { Ok(()) } else { Err(ApiError::validation(self.problems)) }
    }
}

#[derive(Debug, Clone)]
struct ImageInput {
    upload_id: Uuid,
    main: bool,
    alt: String,
}

/// A post body that passed the checks that need no database. For a PATCH, `None` leaves a field as it is.
#[derive(Debug, Default)]
struct PostChanges {
    slug: Option<String>,
    title: Option<String>,
    excerpt: Option<String>,
    content_html: Option<String>,
    category_id: Option<i64>,
    featured: Option<bool>,
    meta_description: Option<String>,
    published: Option<bool>,
    images: Option<Vec<ImageInput>>,
}

impl PostChanges {
    /// Reads a post body; `creating` makes slug, title, content and category required.
    fn read(request: &ApiRequest, creating: bool) -> Result<Self, ApiError> {
        let mut f = Fields::parse(request)?;
        let changes = PostChanges {
            slug: f.slug("slug"),
            title: f.text("title", TITLE_CHARS),
            excerpt: f.text("excerpt", 0..=MAX_EXCERPT_CHARS),
            content_html: f.text("content_html", 1..=MAX_CONTENT_CHARS).map(|html| sanitize_html(&html)),
            category_id: f.id("category_id"),
            featured: f.bool("featured"),
            meta_description: f.text("meta_description", 0..=MAX_META_DESCRIPTION_CHARS),
            published: f.bool("published"),
            images: f.images(),
        };
        if creating {
            let required = [
                ("slug", changes.slug.is_some()),
                ("title", changes.title.is_some()),
                ("content_html", changes.content_html.is_some()),
                ("category_id", changes.category_id.is_some()),
            ];
            for (field, present) in required {
                if !present {
                    f.problem(field, "is required");
                }
            }
        }
        if changes.content_html.as_deref().is_some_and(|html| html.trim().is_empty()) {
            f.problem("content_html", "has nothing left once scripts and unsafe markup are removed");
        }
        f.finish()?;
        Ok(changes)
    }

    /// The values of the columns a body sets, in the order both the INSERT and the UPDATE list them.
    fn columns(&self) -> [&(dyn ToSql + Sync); 7] {
        [
            &self.slug,
            &self.title,
            &self.excerpt,
            &self.content_html,
            &self.category_id,
            &self.featured,
            &self.meta_description,
        ]
    }

    fn is_empty(&self) -> bool {
        matches!(
            self,
            PostChanges {
                slug: None,
                title: None,
                excerpt: None,
                content_html: None,
                category_id: None,
                featured: None,
                meta_description: None,
                published: None,
                images: None
            }
        )
    }
}

/// The checks that need the database: the category exists, every image is the admin's own processed post picture.
async fn check_references(tx: &Transaction, admin_id: i64, changes: &PostChanges) -> Result<(), ApiError> {
    let mut problems = BTreeMap::new();
    if let Some(category_id) = changes.category_id {
        if tx.query_opt("SELECT 1 FROM blog_categories WHERE id = $1", &[&category_id]).await?.is_none() {
            problems.insert("category_id".to_string(), format!("there is no category {category_id}"));
        }
    }
    let images = changes.images.as_deref().unwrap_or_default();
    if !images.is_empty() {
        let ids: Vec<Uuid> = images.iter().map(|i| i.upload_id).collect();
        let rows = tx.query("SELECT id, user_id, purpose, status FROM uploads WHERE id = ANY($1)", &[&ids]).await?;
        for (index, image) in images.iter().enumerate() {
            let found = rows.iter().find(|r| r.get::<_, Uuid>("id") == image.upload_id);
            let problem = match found {
                None => Some("is not an upload".to_string()),
                Some(r) if r.get::<_, i64>("user_id") != admin_id => Some("is not one of your uploads".to_string()),
                Some(r) if r.get::<_, String>("purpose") != "post_image" => {
                    Some("is not an upload for a post image".to_string())
                }
                Some(r) if r.get::<_, String>("status") != "ready" => {
                    Some(format!("is not processed yet (status {})", r.get::<_, String>("status")))
                }
                Some(_) => None,
            };
            if let Some(problem) = problem {
                problems.insert(format!("images[{index}].upload_id"), problem);
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ApiError::validation(problems)) }
}

async fn replace_images(tx: &Transaction, post_id: i64, images: &[ImageInput]) -> Result<(), DbError> {
    tx.execute("DELETE FROM post_images WHERE post_id = $1", &[&post_id]).await?;
    for (position, image) in images.iter().enumerate() {
        tx.execute(
            "INSERT INTO post_images (post_id, upload_id, is_main, alt, position) VALUES ($1, $2, $3, $4, $5)",
            &[&post_id, &image.upload_id, &image.main, &image.alt, &(position as i16)],
        )
        .await?;
    }
    Ok(())
}

/// A taken slug (the only unique constraint a write can break) is 409; any other failure is what it is.
fn slug_conflict(e: DbError, slug: Option<&str>) -> ApiError {
    if e.code() == Some("23505") {
        ApiError::conflict(format!("the slug {:?} is taken", slug.unwrap_or_default())).with_field("slug", "is taken")
    } else {
        e.into()
    }
}

/// A post as its admin sees it: drafts too, with the counters.
#[derive(Debug, Serialize)]
struct AdminPost {
    #[serde(flatten)]
    post: Post,
    published: bool,
    views: i64,
    likes: i64,
}

async fn admin_post(platform: &Platform, post_id: i64) -> Result<AdminPost, ApiError> {
    let conn = platform.db.connection().await?;
    let post = load_post(platform, &conn, PostRef::Id(post_id)).await?.ok_or_else(|| no_post(post_id))?;
    let counters = conn.query_one("SELECT views, likes FROM posts WHERE id = $1", &[&post_id]).await?;
    Ok(AdminPost {
        published: post.published_at.is_some(),
        views: counters.get("views"),
        likes: counters.get("likes"),
        post,
    })
}

fn no_post(post_id: i64) -> ApiError {
    ApiError::not_found(format!("there is no post {post_id}"))
}

/// After a committed write: the Open Graph image when it became due, and the cache.
async fn after_write(platform: &Platform, post_id: i64, og_due: bool) {
    if og_due {
        if let Err(e) = og::request(platform, post_id).await {
            tracing::warn!(post_id, error = %e, "post saved; its Open Graph event waits for the sweep");
        }
    }
    invalidate(platform).await;
}

/// `POST /api/v1/admin/blog/categories` with `{"slug", "name"}`: 201 with the category; 409 when the slug is taken.
pub async fn create_category(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Viewer::admin(platform, &request).await?;
    let mut f = Fields::parse(&request)?;
    let (slug, name) = (f.slug("slug"), f.text("name", NAME_CHARS));
    for (field, present) in [("slug", slug.is_some()), ("name", name.is_some())] {
        if !present {
            f.problem(field, "is required");
        }
    }
    f.finish()?;
    let (Some(slug), Some(name)) = (slug, name) else {
        return Err(ApiError::bad_request("validation_failed", "slug and name are required"));
    };
    let conn = platform.db.connection().await?;
    let row = conn
        .query_one("INSERT INTO blog_categories (slug, name) VALUES ($1, $2) RETURNING id", &[&slug, &name])
        .await
        .map_err(|e| slug_conflict(e, Some(&slug)))?;
    invalidate(platform).await;
    Ok(ApiResponse::json(StatusCode::CREATED, &Category { id: row.get("id"), slug, name }))
}

/// `POST /api/v1/admin/blog/posts`: creates a post, a draft unless `"published": true`. 201 with the post.
pub async fn create_post(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let admin = Viewer::admin(platform, &request).await?;
    let changes = PostChanges::read(&request, true)?;
    let publish = changes.published.unwrap_or(false);
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    check_references(&tx, admin.id(), &changes).await?;
    let row = tx
        .query_one(
            "INSERT INTO posts (slug, title, excerpt, content_html, category_id, featured, meta_description, published_at, og_requested_at)
             VALUES ($1, $2, coalesce($3, ''), $4, $5, coalesce($6, false), coalesce($7, ''),
                     CASE WHEN $8 THEN now() END, CASE WHEN $8 THEN now() END)
             RETURNING id",
            &[changes.columns().as_slice(), &[&publish]].concat(),
        )
        .await
        .map_err(|e| slug_conflict(e, changes.slug.as_deref()))?;
    let post_id: i64 = row.get("id");
    replace_images(&tx, post_id, changes.images.as_deref().unwrap_or_default()).await?;
    tx.commit().await?;
    after_write(platform, post_id, publish).await;
    Ok(ApiResponse::json(StatusCode::CREATED, &admin_post(platform, post_id).await?))
}

/// `PATCH /api/v1/admin/blog/posts/{post_id}`: changes the fields given, all or nothing; `"published": true|false`
/// publishes (keeping an earlier `published_at`) or unpublishes; `images` replaces every image.
pub async fn update_post(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let post_id = request.path_id("post_id")?;
    let admin = Viewer::admin(platform, &request).await?;
    let changes = PostChanges::read(&request, false)?;
    if changes.is_empty() {
        return Err(ApiError::bad_request("validation_failed", "nothing to change: the body names no field of a post"));
    }
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let current = tx
        .query_opt(
            "SELECT title, category_id, published_at IS NOT NULL AS published FROM posts WHERE id = $1 FOR UPDATE",
            &[&post_id],
        )
        .await?
        .ok_or_else(|| no_post(post_id))?;
    check_references(&tx, admin.id(), &changes).await?;
    let (title, category_id, was_published): (String, i64, bool) =
        (current.get("title"), current.get("category_id"), current.get("published"));
    let published = changes.published.unwrap_or(was_published);
    let renamed =
        changes.title.as_ref().is_some_and(|t| *t != title) || changes.category_id.is_some_and(|c| c != category_id);
    let og_due = published && (!was_published || renamed);
    tx.execute(
        "UPDATE posts SET slug = coalesce($2, slug), title = coalesce($3, title), excerpt = coalesce($4, excerpt),
                content_html = coalesce($5, content_html), category_id = coalesce($6, category_id),
                featured = coalesce($7, featured), meta_description = coalesce($8, meta_description),
                published_at = CASE WHEN $9 THEN coalesce(published_at, now()) END,
                og_requested_at = CASE WHEN $10 THEN now() WHEN $9 THEN og_requested_at END,
                updated_at = now()
          WHERE id = $1",
        &[&[&post_id as &(dyn ToSql + Sync)], changes.columns().as_slice(), &[&published, &og_due]].concat(),
    )
    .await
    .map_err(|e| slug_conflict(e, changes.slug.as_deref()))?;
    if let Some(images) = &changes.images {
        replace_images(&tx, post_id, images).await?;
    }
    tx.commit().await?;
    after_write(platform, post_id, og_due).await;
    Ok(ApiResponse::ok(&admin_post(platform, post_id).await?))
}

/// `DELETE /api/v1/admin/blog/posts/{post_id}`: deletes the post with its likes and image links (the uploads
/// stay; the media clean-up decides about them). 204; 404 when there is no such post.
pub async fn delete_post(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let post_id = request.path_id("post_id")?;
    Viewer::admin(platform, &request).await?;
    let conn = platform.db.connection().await?;
    let deleted = conn.execute("DELETE FROM posts WHERE id = $1", &[&post_id]).await?;
    if deleted == 0 {
        return Err(no_post(post_id));
    }
    invalidate(platform).await;
    Ok(ApiResponse { status: StatusCode::NO_CONTENT, headers: Default::default(), body: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn body(value: Value) -> ApiRequest {
        let mut request = ApiRequest::new(Method::POST, "/api/v1/admin/blog/posts");
        request.set_json_body(value.to_string().into_bytes());
        request
    }

    fn fields_of(e: ApiError) -> BTreeMap<String, String> {
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{e}");
        e.fields.unwrap_or_default()
    }

    #[test]
    fn a_new_post_names_every_bad_and_missing_field_at_once() {
        let e = PostChanges::read(
            &body(serde_json::json!({
                "slug": "Not A Slug", "title": "", "featured": "yes", "published": 1, "colour": "red",
                "images": [{"upload_id": "nope", "main": true}, {"upload_id": Uuid::nil(), "main": true, "alt": 5}]
            })),
            true,
        )
        .unwrap_err();
        let fields = fields_of(e);
        for name in [
            "slug",
            "title",
            "featured",
            "published",
            "colour",
            "content_html",
            "category_id",
            "images[0].upload_id",
            "images[1].alt",
        ] {
            assert!(fields.contains_key(name), "{name} not named: {fields:?}");
        }
    }

    #[test]
    fn a_patch_may_name_any_subset_and_content_is_sanitised() {
        let changes =
            PostChanges::read(&body(serde_json::json!({"content_html": "<p>ok</p><script>x()</script>"})), false)
                .unwrap();
        assert_eq!(changes.content_html.as_deref(), Some("<p>ok</p>"));
        assert!(changes.title.is_none() && !changes.is_empty());
        let only_script =
            PostChanges::read(&body(serde_json::json!({"content_html": "<script>x()</script>"})), false).unwrap_err();
        assert!(fields_of(only_script).contains_key("content_html"));
    }

    #[test]
    fn two_main_images_are_refused() {
        let images = serde_json::json!([{"upload_id": Uuid::new_v4(), "main": true}, {"upload_id": Uuid::new_v4(), "main": true}]);
        let e = PostChanges::read(&body(serde_json::json!({ "images": images })), false).unwrap_err();
        assert!(fields_of(e).contains_key("images"));
    }
}
