//! The blog (DOMAIN §4): categories and posts that readers list, read, like and count views of; admins write them;
//! each published post has a server-rendered page with Open Graph tags and a generated Open Graph image.
//!
//! - [`reader`]: the public routes. Content is read through one cache hash, `blog` (fields `categories`,
//!   `post:{slug}`, `page:{slug}`, `list:{category}:{page}:{per_page}`), as the quiz catalogue does; every admin
//!   write and every stored Open Graph image deletes that one key ([`invalidate`]), so no instance serves a post
//!   older than the last change. Counters (views, likes) change on every read and are read live, never cached
//!   with a post.
//! - [`admin`]: creating categories, creating, editing (all or nothing), publishing and deleting posts. Post HTML
//!   is cleaned here, on write ([`sanitize_html`]), so every reader path can print it as it is stored.
//! - [`og`]: the `post.published` event, the `generate-og-image` job and the sweep that recovers lost events.
//! - [`page`]: `GET /blog/{slug}`, an HTML document rendered from templates compiled into the binary.

pub mod admin;
pub mod og;
pub mod page;
pub mod reader;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use platform::Platform;
use platform::db::{Connection, DbError};

const BLOG_KEY: &str = "blog";
const BLOG_TTL: Duration = Duration::from_secs(600);
/// Longest slug accepted, as the schema's check.
pub const MAX_SLUG_CHARS: usize = 100;

/// Forgets every cached blog list, post and page; called after each write, once it is committed.
pub async fn invalidate(platform: &Platform) {
    if !platform.cache.delete(&[BLOG_KEY]).await {
        tracing::warn!("the blog may stay cached until Redis is back (at most {BLOG_TTL:?})");
    }
}

/// Whether `slug` is a URL-safe slug: lower-case letters and digits in words joined by single hyphens.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_CHARS
        && slug
            .split('-')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Cleans post HTML with ammonia's allow-list: no `<script>` or `<style>`, no `on*` handlers, no `javascript:` or
/// other unlisted URL schemes, links get `rel="noopener noreferrer"`. Code blocks keep their `class` (a language
/// name, for highlighting on the client).
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .add_tag_attributes("code", &["class"])
        .add_tag_attributes("pre", &["class"])
        .clean(html)
        .to_string()
}

/// The site's name on pages and Open Graph images: the host of `PUBLIC_BASE_URL` (without scheme, port or path).
pub fn site_name(platform: &Platform) -> String {
    host_of(&platform.config.public_base_url)
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if host.is_empty() { url.to_string() } else { host.to_string() }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// A picture of a post: a processed upload, served from the media bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostImage {
    pub upload_id: Uuid,
    pub url: String,
    pub main: bool,
    pub alt: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// A post's content, as it is cached: everything but the counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Post {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    /// Sanitised when written.
    pub content_html: String,
    pub category: Category,
    /// `None` for a draft.
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub meta_description: String,
    /// The generated Open Graph image, once the job stored it.
    pub og_image_url: Option<String>,
    pub images: Vec<PostImage>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Post {
    pub fn main_image(&self) -> Option<&PostImage> {
        self.images.iter().find(|i| i.main)
    }

    /// What the page's description and `og:description` say: the meta description, else the excerpt.
    pub fn description(&self) -> &str {
        [&self.meta_description, &self.excerpt]
            .into_iter()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .unwrap_or(&self.title)
    }
}

/// Which post to load.
pub(crate) enum PostRef<'a> {
    Id(i64),
    /// By slug, published only: what readers may see.
    PublishedSlug(&'a str),
}

const POST_COLUMNS: &str =
    "SELECT p.id, p.slug, p.title, p.excerpt, p.content_html, p.published_at, p.featured, p.meta_description,
        p.og_image_key, p.created_at, p.updated_at, c.id AS category_id, c.slug AS category_slug,
        c.name AS category_name
   FROM posts p JOIN blog_categories c ON c.id = p.category_id";

/// Loads a post with its images from PostgreSQL (no cache).
pub(crate) async fn load_post(
    platform: &Platform,
    conn: &Connection,
    which: PostRef<'_>,
) -> Result<Option<Post>, DbError> {
    let row = match which {
        PostRef::Id(id) => conn.query_opt(&format!("{POST_COLUMNS} WHERE p.id = $1"), &[&id]).await?,
        PostRef::PublishedSlug(slug) => {
            conn.query_opt(&format!("{POST_COLUMNS} WHERE p.slug = $1 AND p.published_at IS NOT NULL"), &[&slug])
                .await?
        }
    };
    let Some(r) = row else { return Ok(None) };
    let id: i64 = r.get("id");
    let images = conn
        .query(
            "SELECT i.upload_id, i.is_main, i.alt, u.processed_key, u.width, u.height
               FROM post_images i JOIN uploads u ON u.id = i.upload_id
              WHERE i.post_id = $1 ORDER BY i.position",
            &[&id],
        )
        .await?;
    let og_image_key: Option<String> = r.get("og_image_key");
    Ok(Some(Post {
        id,
        slug: r.get("slug"),
        title: r.get("title"),
        excerpt: r.get("excerpt"),
        content_html: r.get("content_html"),
        published_at: r.get("published_at"),
        featured: r.get("featured"),
        meta_description: r.get("meta_description"),
        og_image_url: og_image_key.map(|key| platform.storage.public_url(&key)),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        category: Category { id: r.get("category_id"), slug: r.get("category_slug"), name: r.get("category_name") },
        images: images
            .iter()
            .filter_map(|i| {
                let key: Option<String> = i.get("processed_key");
                Some(PostImage {
                    upload_id: i.get("upload_id"),
                    url: platform.storage.public_url(&key?),
                    main: i.get("is_main"),
                    alt: i.get("alt"),
                    width: i.get("width"),
                    height: i.get("height"),
                })
            })
            .collect(),
    }))
}

/// A published post by slug, through the cache. Unknown slugs are not cached, so guessing slugs cannot fill the
/// cache.
pub(crate) async fn published_post(platform: &Platform, slug: &str) -> Result<Option<Post>, DbError> {
    if !is_valid_slug(slug) {
        return Ok(None);
    }
    platform
        .cache
        .hash_get_or_load_found(BLOG_KEY, &format!("post:{slug}"), BLOG_TTL, || async {
            load_post(platform, &platform.db.connection().await?, PostRef::PublishedSlug(slug)).await
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_single_hyphens() {
        for good in ["rust", "rust-2024", "a-b-c", "9"] {
            assert!(is_valid_slug(good), "{good}");
        }
        for bad in ["", "Rust", "a--b", "-a", "a-", "a b", "a_b", "ü", &"a".repeat(101)] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn the_site_name_is_the_host_of_the_public_url() {
        assert_eq!(host_of("https://quiz.example.com"), "quiz.example.com");
        assert_eq!(host_of("http://127.0.0.1:3000/app?x=1"), "127.0.0.1");
        assert_eq!(host_of("https://user@blog.example.org:8443/"), "blog.example.org");
        assert_eq!(host_of("quiz.example.com/path"), "quiz.example.com");
    }

    #[test]
    fn the_sanitiser_drops_scripts_handlers_and_javascript_urls_and_keeps_content() {
        let dirty = r#"<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script><img src="x.png" onerror="alert(2)"><a href="javascript:alert(3)">x</a><pre><code class="language-rust">fn main() {}</code></pre>"#;
        let clean = sanitize_html(dirty);
        for gone in ["<script", "alert(1)", "onclick", "onerror", "javascript:"] {
            assert!(!clean.contains(gone), "{gone} survived: {clean}");
        }
        for kept in ["<b>there</b>", r#"<img src="x.png">"#, r#"<code class="language-rust">"#] {
            assert!(clean.contains(kept), "{kept} was lost: {clean}");
        }
    }
}
