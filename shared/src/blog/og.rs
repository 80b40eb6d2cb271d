//! The Open Graph image of a post: requested when a post is published or a published post's title or category
//! changes, made by the `generate-og-image` job.
//!
//! Store-first: the write that makes an image due sets `posts.og_requested_at` in the same statement, and only then
//! is `post.published` published. The job clears the request once the image is stored, so a request still set a
//! minute later means the event was lost (or the job failed); [`sweep_og_requests`] publishes it again. The job reads
//! the post's current title and category whatever the event says, and the image's key is the hash of its bytes, so
//! any number of deliveries, in any order, leave the image of the post as it is now.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{invalidate, site_name};
use platform::Platform;
use platform::db::DbError;
use platform::events::{self, DomainEvent, EventKind, PublishError, Republished};
use platform::jobs::JobEnvelope;
use platform::storage::keys;
use platform::trigger::{JobError, JobFuture};

/// A request this old and still unserved is published again by the sweep.
pub const SWEEP_GRACE: Duration = Duration::from_secs(60);
const SWEEP_BATCH: i64 = 100;

/// The `post.published` event: a post was published, or a published post's title or category changed, so its
/// Open Graph image is due. Each request is an event of its own (a new id): a later change draws again.
#[derive(Debug, Serialize, Deserialize)]
pub struct PostPublished {
    pub post_id: i64,
}

impl events::Detail for PostPublished {
    const KIND: EventKind = EventKind::PostPublished;
}

/// Publishes `post.published` for a post whose `og_requested_at` is set. The event's id is new each time: the job
/// does not need it to be idempotent (see the module's documentation).
pub async fn request(platform: &Platform, post_id: i64) -> Result<(), PublishError> {
    let id = Uuid::new_v4();
    let event = DomainEvent::of(id, &PostPublished { post_id }).map_err(|e| PublishError {
        detail_type: EventKind::PostPublished.detail_type(),
        id,
        message: e.to_string(),
    })?;
    platform.events.publish(&event).await
}

/// Publishes `post.published` again for every published post whose image was requested over [`SWEEP_GRACE`] ago and
/// is still unserved, and restarts its grace, so a post the job keeps failing on is retried once a grace period,
/// not on every sweep. Returns how many were published; a post whose event still cannot leave stays for the next
/// sweep. Run by the `republish-events` schedule with the other outbox sweeps.
pub async fn sweep_og_requests(platform: &Platform) -> Result<Republished, DbError> {
    let conn = platform.db.connection().await?;
    let rows = conn
        .query(
            "SELECT id FROM posts
              WHERE og_requested_at < now() - make_interval(secs => $1) AND published_at IS NOT NULL
              ORDER BY og_requested_at LIMIT $2",
            &[&SWEEP_GRACE.as_secs_f64(), &SWEEP_BATCH],
        )
        .await?;
    let mut republished = Republished::default();
    for row in rows {
        let post_id: i64 = row.get("id");
        let attempt = request(platform, post_id).await;
        if attempt.is_ok() {
            conn.execute(
                "UPDATE posts SET og_requested_at = now() WHERE id = $1 AND og_requested_at IS NOT NULL",
                &[&post_id],
            )
            .await?;
        }
        republished.record("post's Open Graph request", post_id, attempt);
    }
    Ok(republished)
}

/// What the job did with one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OgOutcome {
    /// The image is stored under this key and the post refers to it.
    Stored(String),
    /// The post is gone or unpublished: no image is due.
    NotDue,
    /// The title or category changed while the image was drawn: the newer request's event makes the right one.
    Superseded,
}

/// The `generate-og-image` job: draws the post's current title and category (with the site's name) on a
/// 1200×630 card, stores it content-addressed under `og/`, points the post at it and clears its request.
pub async fn generate(platform: &Platform, job: &JobEnvelope) -> Result<OgOutcome, JobError> {
    let PostPublished { post_id } = job.event_detail()?;
    let conn = platform.db.connection().await?;
    let row = conn
        .query_opt(
            "SELECT p.title, p.category_id, c.name AS category FROM posts p JOIN blog_categories c ON c.id = p.category_id
              WHERE p.id = $1 AND p.published_at IS NOT NULL",
            &[&post_id],
        )
        .await?;
    let Some(row) = row else { return Ok(OgOutcome::NotDue) };
    let (title, category_id, category): (String, i64, String) =
        (row.get("title"), row.get("category_id"), row.get("category"));
    let site = site_name(platform);
    let (drawn_title, drawn_category) = (title.clone(), category.clone());
    // Drawing is CPU work of tens of milliseconds: off the async workers.
    let png = tokio::task::spawn_blocking(move || media::og::render_og_image(&drawn_title, &drawn_category, &site))
        .await
        .map_err(|e| JobError(format!("drawing the Open Graph image stopped: {e}")))?
        .map_err(|e| JobError(format!("cannot draw the Open Graph image of post {post_id}: {e}")))?;
    let key = keys::open_graph(&png);
    platform.storage.put(&key, png, "image/png").await?;
    let conn = platform.db.connection().await?;
    let updated = conn
        .execute(
            "UPDATE posts SET og_image_key = $2, og_requested_at = NULL
              WHERE id = $1 AND title = $3 AND category_id = $4 AND published_at IS NOT NULL",
            &[&post_id, &key, &title, &category_id],
        )
        .await?;
    if updated == 0 {
        return Ok(OgOutcome::Superseded);
    }
    invalidate(platform).await;
    Ok(OgOutcome::Stored(key))
}

/// The `generate-og-image` function's job handler.
pub fn generate_job(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let outcome = generate(platform, &job).await?;
        tracing::info!(job_id = %job.id, ?outcome, "post.published handled");
        Ok(())
    })
}
