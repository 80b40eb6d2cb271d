//! Uploads (DOMAIN §6): a signed-in user asks for a pre-signed PUT URL for one image of a declared purpose,
//! type and size; the bytes go straight to S3; the user says the upload is complete; the `upload.completed`
//! event brings the `process-uploaded-file` job, which checks the bytes really are that image, strips their
//! metadata, bounds and re-encodes them (the `media` crate) and marks the upload ready — or rejected, with the
//! reason, when the file is not such an image. Only processed objects (under `media/`) are ever served.
//!
//! A completed upload is stored first, then its event published; the `republish-events` schedule publishes the
//! events that never left, so a completed upload is never stuck.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identity::Viewer;
use media::ImageType;
use platform::Platform;
use platform::db::{Connection, DbError};
use platform::events::{self, DomainEvent, EventKind, Republished};
use platform::http::{ApiError, ApiRequest, ApiResponse};
use platform::jobs::JobEnvelope;
use platform::storage::keys;
use platform::trigger::{JobError, JobFuture};

/// How long a pre-signed PUT URL works.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// A user keeps this many processed avatars; older ones are retired when a new one is ready.
pub const AVATARS_KEPT: i64 = 3;
/// Unfinished avatar uploads one user may have at a time.
const AVATARS_IN_FLIGHT: i64 = 3;
/// Upload URLs one user may ask for per hour.
const UPLOADS_PER_HOUR: u64 = 30;

/// What an upload is for: decides its size limit, who may make it, and the crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Avatar,
    PostImage,
    FeedbackImage,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [Purpose::Avatar, Purpose::PostImage, Purpose::FeedbackImage];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Avatar => "avatar",
            Purpose::PostImage => "post_image",
            Purpose::FeedbackImage => "feedback_image",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// The largest original accepted, in bytes.
    pub fn max_bytes(self) -> u64 {
        match self {
            Purpose::Avatar => 5 * 1024 * 1024,
            Purpose::PostImage => 15 * 1024 * 1024,
            Purpose::FeedbackImage => 10 * 1024 * 1024,
        }
    }

    fn for_media(self) -> media::Purpose {
        match self {
            Purpose::Avatar => media::Purpose::Avatar,
            Purpose::PostImage => media::Purpose::PostImage,
            Purpose::FeedbackImage => media::Purpose::FeedbackImage,
        }
    }
}

/// `POST /api/v1/uploads`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUpload {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    size: Option<i64>,
}

struct ValidUpload {
    purpose: Purpose,
    image_type: ImageType,
    size: u64,
}

fn validate(form: &NewUpload) -> Result<ValidUpload, ApiError> {
    let mut problems = BTreeMap::new();
    let purpose = Purpose::parse(form.purpose.trim());
    if purpose.is_none() {
        problems.insert("purpose".into(), "must be one of avatar, post_image, feedback_image".into());
    }
    let image_type = ImageType::from_content_type(&form.content_type);
    if image_type.is_none() {
        problems.insert("content_type".into(), "must be image/jpeg, image/png, image/gif or image/webp".into());
    }
    let size = form.size.filter(|s| *s > 0).map(|s| s as u64);
    match (size, purpose) {
        (None, _) => {
            problems.insert("size".into(), "must be the file's size in bytes, a positive integer".into());
        }
        (Some(size), Some(purpose)) if size > purpose.max_bytes() => {
            problems.insert(
                "size".into(),
                format!("must be at most {} bytes for {}", purpose.max_bytes(), purpose.as_str()),
            );
        }
        _ => {}
    }
    match (purpose, image_type, size) {
        (Some(purpose), Some(image_type), Some(size)) if problems.is_empty() => {
            Ok(ValidUpload { purpose, image_type, size })
        }
        _ => Err(ApiError::validation(problems)),
    }
}

/// One upload as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UploadView {
    pub id: Uuid,
    pub purpose: Purpose,
    /// `pending` (waiting for the bytes), `processing`, `ready` or `rejected`.
    pub status: String,
    pub content_type: String,
    /// The processed image, once ready.
    pub url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub size: Option<i64>,
    /// Why the file was refused, when it was.
    pub rejection: Option<String>,
    pub created_at: DateTime<Utc>,
}

const VIEW_COLUMNS: &str = "id, purpose, status, coalesce(processed_type, content_type) AS content_type, processed_key, \
                            width, height, processed_size, rejection, created_at";

/// Reads the columns [`VIEW_COLUMNS`] names.
fn view_from_row(platform: &Platform, row: &tokio_postgres::Row) -> UploadView {
    let purpose: String = row.get("purpose");
    UploadView {
        id: row.get("id"),
        purpose: Purpose::parse(&purpose).unwrap_or(Purpose::FeedbackImage),
        status: row.get("status"),
        content_type: row.get("content_type"),
        url: row.get::<_, Option<String>>("processed_key").map(|key| platform.storage.public_url(&key)),
        width: row.get("width"),
        height: row.get("height"),
        size: row.get("processed_size"),
        rejection: row.get("rejection"),
        created_at: row.get("created_at"),
    }
}

/// `POST /api/v1/uploads`: a pre-signed PUT URL for one image. 201 with the upload and how to send it.
pub async fn create(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let upload = validate(&request.json()?)?;
    if upload.purpose == Purpose::PostImage && !viewer.profile.is_admin {
        return Err(ApiError::forbidden("only administrators upload post images"));
    }
    if !platform
        .cache
        .within_limit(&format!("uploads:{}", viewer.id()), UPLOADS_PER_HOUR, Duration::from_secs(3600))
        .await
    {
        return Err(ApiError::rate_limited(3600));
    }
    let id = Uuid::new_v4();
    let content_type = upload.image_type.content_type();
    // Signing is local computation: done before the row is written, so a failure leaves nothing behind.
    let url = platform.storage.presign_put(&keys::original(id), content_type, upload.size, UPLOAD_URL_LIFETIME).await?;
    let conn = platform.db.connection().await?;
    // One statement: the in-flight avatar count and the insert cannot interleave with another request's.
    let inserted = conn
        .query_opt(
            "INSERT INTO uploads (id, user_id, purpose, content_type, declared_size)
             SELECT $1, $2, $3, $4, $5
              WHERE $3 <> 'avatar' OR (SELECT count(*) FROM uploads
                                        WHERE user_id = $2 AND purpose = 'avatar' AND status IN ('pending', 'processing')
                                          AND created_at > now() - interval '1 day') < $6
             RETURNING created_at",
            &[&id, &viewer.id(), &upload.purpose.as_str(), &content_type, &(upload.size as i64), &AVATARS_IN_FLIGHT],
        )
        .await?;
    let Some(row) = inserted else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_unfinished_avatars",
            format!("you have {AVATARS_IN_FLIGHT} avatar uploads not yet complete; complete them or wait a day"),
        ));
    };
    let created_at: DateTime<Utc> = row.get("created_at");
    let expires_at = created_at + chrono::Duration::from_std(UPLOAD_URL_LIFETIME).unwrap_or_default();
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        &serde_json::json!({
            "id": id,
            "purpose": upload.purpose,
            "status": "pending",
            "max_size": upload.purpose.max_bytes(),
            "upload": {
                "method": "PUT",
                "url": url,
                "headers": { "content-type": content_type, "content-length": upload.size.to_string() },
                "expires_at": expires_at,
            },
        }),
    ))
}

/// The caller's own upload; 404 for anyone else's, so ids do not leak.
async fn owned(platform: &Platform, conn: &Connection, id: Uuid, user_id: i64) -> Result<UploadView, ApiError> {
    let sql = format!("SELECT {VIEW_COLUMNS} FROM uploads WHERE id = $1 AND user_id = $2");
    conn.query_opt(&sql, &[&id, &user_id])
        .await?
        .map(|row| view_from_row(platform, &row))
        .ok_or_else(|| ApiError::not_found("no such upload of yours"))
}

/// `GET /api/v1/uploads/{upload_id}`: the upload's state, and the processed image's URL once ready.
pub async fn get(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let id = request.path_uuid("upload_id")?;
    let conn = platform.db.connection().await?;
    Ok(ApiResponse::ok(&owned(platform, &conn, id, viewer.id()).await?))
}

/// `POST /api/v1/uploads/{upload_id}/complete`: the bytes are in S3; process them. 202 while processing; asking
/// again is harmless and answers the current state.
pub async fn complete(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let id = request.path_uuid("upload_id")?;
    let conn = platform.db.connection().await?;
    let upload = owned(platform, &conn, id, viewer.id()).await?;
    if upload.status != "pending" {
        let status = if upload.status == "processing" { StatusCode::ACCEPTED } else { StatusCode::OK };
        return Ok(ApiResponse::json(status, &upload));
    }
    if platform.storage.size(&keys::original(id)).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_uploaded",
            "nothing has been uploaded to this upload's URL yet; PUT the file first",
        ));
    }
    let sql = format!(
        "UPDATE uploads SET status = 'processing', completed_at = now() WHERE id = $1 AND status = 'pending'
         RETURNING completed_at, {VIEW_COLUMNS}"
    );
    let Some(row) = conn.query_opt(&sql, &[&id]).await? else {
        // A concurrent request completed it first: answer its state.
        return Ok(ApiResponse::json(StatusCode::ACCEPTED, &owned(platform, &conn, id, viewer.id()).await?));
    };
    if let Err(e) = publish(platform, &conn, id, row.get("completed_at")).await {
        tracing::warn!(%id, error = %e, "upload completed; its event waits for the republish sweep");
    }
    Ok(ApiResponse::json(StatusCode::ACCEPTED, &view_from_row(platform, &row)))
}

/// The `upload.completed` event: a client finished uploading an original; the event's id is the upload's.
#[derive(Debug, Serialize, Deserialize)]
pub struct UploadCompleted {}

impl events::Detail for UploadCompleted {
    const KIND: EventKind = EventKind::UploadCompleted;
}

/// Publishes `upload.completed` (its id is the upload's) and records that it left.
async fn publish(platform: &Platform, conn: &Connection, id: Uuid, completed_at: DateTime<Utc>) -> Result<(), String> {
    let mut event = DomainEvent::of(id, &UploadCompleted {}).map_err(|e| e.to_string())?;
    event.occurred_at = completed_at;
    platform.events.publish(&event).await.map_err(|e| e.to_string())?;
    conn.execute("UPDATE uploads SET event_published_at = now() WHERE id = $1", &[&id])
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Publishes the events of completed uploads whose event never left (older than `grace`).
pub async fn republish(platform: &Platform, grace: Duration, batch: i64) -> Result<Republished, DbError> {
    let conn = platform.db.connection().await?;
    let rows = conn
        .query(
            "SELECT id, completed_at FROM uploads
              WHERE status = 'processing' AND event_published_at IS NULL
                AND completed_at < now() - make_interval(secs => $1)
              ORDER BY completed_at LIMIT $2",
            &[&grace.as_secs_f64(), &batch],
        )
        .await?;
    let mut republished = Republished::default();
    for row in rows {
        let id: Uuid = row.get("id");
        republished.record("completed upload", id, publish(platform, &conn, id, row.get("completed_at")).await);
    }
    Ok(republished)
}

/// What the processing job did with one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processing {
    /// Stored under this key; the upload is ready.
    Ready { key: String },
    /// The file is not an acceptable image; the upload is rejected (not retried).
    Rejected { reason: String },
    /// Already ready or rejected (a second delivery), or the upload is gone.
    NothingToDo,
}

/// The `process-uploaded-file` job for one `upload.completed` event (its id is the upload's).
pub async fn process(platform: &Platform, upload_id: Uuid) -> Result<Processing, JobError> {
    let (user_id, purpose, declared) = {
        let conn = platform.db.connection().await?;
        let row = conn
            .query_opt("SELECT user_id, purpose, content_type, status FROM uploads WHERE id = $1", &[&upload_id])
            .await?;
        match row {
            Some(row) if row.get::<_, String>("status") == "processing" => {
                let purpose = Purpose::parse(&row.get::<_, String>("purpose"))
                    .ok_or_else(|| JobError::new("an upload of unknown purpose"))?;
                let declared = ImageType::from_content_type(&row.get::<_, String>("content_type"))
                    .ok_or_else(|| JobError::new("an upload of an unaccepted content type"))?;
                (row.get::<_, i64>("user_id"), purpose, declared)
            }
            _ => return Ok(Processing::NothingToDo),
        }
    };
    let original = keys::original(upload_id);
    let outcome = match platform.storage.get(&original).await? {
        None => Err("the uploaded file is missing".to_string()),
        Some(bytes) if bytes.len() as u64 > purpose.max_bytes() => Err(format!(
            "the file is {} bytes; at most {} are accepted for {}",
            bytes.len(),
            purpose.max_bytes(),
            purpose.as_str()
        )),
        // Decoding and encoding are CPU-bound: off the async threads.
        Some(bytes) => {
            tokio::task::spawn_blocking(move || media::process_upload(&bytes, declared, purpose.for_media()))
                .await
                .map_err(|e| JobError(format!("image processing stopped: {e}")))?
                .map_err(|rejected| rejected.to_string())
        }
    };
    let processed = match outcome {
        Ok(processed) => processed,
        Err(reason) => {
            let conn = platform.db.connection().await?;
            conn.execute(
                "UPDATE uploads SET status = 'rejected', rejection = $2, processed_at = now() WHERE id = $1 AND status = 'processing'",
                &[&upload_id, &reason],
            )
            .await?;
            discard_original(platform, &original).await;
            return Ok(Processing::Rejected { reason });
        }
    };
    let key = keys::processed(purpose.as_str(), upload_id, processed.image_type.extension());
    let size = processed.bytes.len() as i64;
    platform.storage.put(&key, processed.bytes, processed.image_type.content_type()).await?;
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    let updated = tx
        .execute(
            "UPDATE uploads SET status = 'ready', processed_key = $2, processed_type = $3, processed_size = $4,
                                width = $5, height = $6, processed_at = now()
              WHERE id = $1 AND status = 'processing'",
            &[
                &upload_id,
                &key,
                &processed.image_type.content_type(),
                &size,
                &(processed.width as i32),
                &(processed.height as i32),
            ],
        )
        .await?;
    if updated == 1 && purpose == Purpose::Avatar {
        tx.execute("UPDATE users SET avatar_url = $2 WHERE id = $1", &[&user_id, &platform.storage.public_url(&key)])
            .await?;
        // The oldest avatars beyond the kept ones lose their rows; the media clean-up removes their objects.
        tx.execute(
            "DELETE FROM uploads WHERE user_id = $1 AND purpose = 'avatar' AND status = 'ready'
                AND id NOT IN (SELECT id FROM uploads WHERE user_id = $1 AND purpose = 'avatar' AND status = 'ready'
                                ORDER BY processed_at DESC, id LIMIT $2)",
            &[&user_id, &AVATARS_KEPT],
        )
        .await?;
    }
    tx.commit().await?;
    if purpose == Purpose::Avatar {
        crate::users::invalidate(platform, user_id).await;
    }
    discard_original(platform, &original).await;
    Ok(if updated == 1 { Processing::Ready { key } } else { Processing::NothingToDo })
}

/// Nothing refers to an original once its upload is decided; removing it now saves the clean-up the work (and
/// the clean-up still removes it should this fail).
async fn discard_original(platform: &Platform, key: &str) {
    if let Err(e) = platform.storage.delete(key).await {
        tracing::warn!(key, error = %e, "could not delete a processed upload's original; the media clean-up will");
    }
}

/// The `process-uploaded-file` function's job handler.
pub fn process_job(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let UploadCompleted {} = job.event_detail()?;
        let outcome = process(platform, job.id).await?;
        tracing::info!(upload_id = %job.id, ?outcome, "upload handled");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(purpose: &str, content_type: &str, size: Option<i64>) -> NewUpload {
        NewUpload { purpose: purpose.into(), content_type: content_type.into(), size }
    }

    #[test]
    fn a_good_request_is_accepted_with_its_canonical_type() {
        let valid = validate(&form("avatar", "image/JPG", Some(1000))).ok().unwrap();
        assert_eq!((valid.purpose, valid.image_type, valid.size), (Purpose::Avatar, ImageType::Jpeg, 1000));
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = validate(&form("banner", "text/plain", Some(0))).err().unwrap();
        let fields = err.fields.unwrap();
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["content_type", "purpose", "size"]);
        assert!(err.message.contains("content_type, purpose, size"), "{}", err.message);
    }

    #[test]
    fn the_size_limit_depends_on_the_purpose() {
        assert!(validate(&form("post_image", "image/png", Some(15 * 1024 * 1024))).is_ok());
        let err = validate(&form("avatar", "image/png", Some(5 * 1024 * 1024 + 1))).err().unwrap();
        assert!(err.fields.unwrap()["size"].contains("at most 5242880 bytes"));
    }
}
