//! Feedback from signed-in users (DOMAIN §5): a category, a message, and up to three of their own processed
//! feedback images. Stored whole or not at all.

use std::collections::BTreeMap;
use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::identity::Viewer;
use platform::Platform;
use platform::http::{ApiError, ApiRequest, ApiResponse};

pub const CATEGORIES: [&str; 4] = ["bug", "suggestion", "complaint", "other"];
const MESSAGE_CHARS: std::ops::RangeInclusive<usize> = 3..=5000;
pub const MAX_IMAGES: usize = 3;
/// Feedback one user may send per hour.
const PER_USER_PER_HOUR: u64 = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFeedback {
    #[serde(default)]
    category: String,
    #[serde(default)]
    message: String,
    /// Upload ids (purpose `feedback_image`, ready).
    #[serde(default)]
    images: Vec<Uuid>,
}

struct ValidFeedback {
    category: String,
    message: String,
    images: Vec<Uuid>,
}

fn validate(form: NewFeedback) -> Result<ValidFeedback, ApiError> {
    let mut problems = BTreeMap::new();
    let category = form.category.trim().to_string();
    if !CATEGORIES.contains(&category.as_str()) {
        problems.insert("category".into(), format!("must be one of {}", CATEGORIES.join(", ")));
    }
    let message = form.message.trim().to_string();
    if !MESSAGE_CHARS.contains(&message.chars().count()) {
        problems.insert(
            "message".into(),
            format!("must be {} to {} characters", MESSAGE_CHARS.start(), MESSAGE_CHARS.end()),
        );
    }
    let mut images = form.images;
    let given = images.len();
    images.sort();
    images.dedup();
    if given > MAX_IMAGES {
        problems.insert("images".into(), format!("at most {MAX_IMAGES} images"));
    } else if images.len() != given {
        problems.insert("images".into(), "lists an image twice".into());
    }
    if problems.is_empty() {
        Ok(ValidFeedback { category, message, images })
    } else {
        Err(ApiError::validation(problems))
    }
}

/// `POST /api/v1/feedback`: 201 with the stored feedback's id.
pub async fn submit(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let viewer = Viewer::authenticate(platform, &request).await?;
    let feedback = validate(request.json()?)?;
    if !platform
        .cache
        .within_limit(&format!("feedback:{}", viewer.id()), PER_USER_PER_HOUR, Duration::from_secs(3600))
        .await
    {
        return Err(ApiError::rate_limited(3600));
    }
    let id = Uuid::new_v4();
    let conn = platform.db.connection().await?;
    let tx = conn.transaction().await?;
    // The images must be the caller's own, processed, and not attached elsewhere; locked so a concurrent
    // submission cannot attach them too.
    let usable = tx
        .query(
            "SELECT u.id FROM uploads u
              WHERE u.id = ANY($1) AND u.user_id = $2 AND u.purpose = 'feedback_image' AND u.status = 'ready'
                AND NOT EXISTS (SELECT 1 FROM feedback_images f WHERE f.upload_id = u.id)
                FOR UPDATE",
            &[&feedback.images, &viewer.id()],
        )
        .await?;
    if usable.len() != feedback.images.len() {
        return Err(ApiError::validation(BTreeMap::from([(
            "images".to_string(),
            "each must be one of your own ready feedback_image uploads, not attached to other feedback".to_string(),
        )])));
    }
    tx.execute(
        "INSERT INTO feedback (id, user_id, category, message) VALUES ($1, $2, $3, $4)",
        &[&id, &viewer.id(), &feedback.category, &feedback.message],
    )
    .await?;
    tx.execute(
        "INSERT INTO feedback_images (feedback_id, upload_id, position)
         SELECT $1, image, (n - 1)::smallint FROM unnest($2::uuid[]) WITH ORDINALITY AS t(image, n)",
        &[&id, &feedback.images],
    )
    .await?;
    tx.commit().await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        &serde_json::json!({ "id": id, "category": feedback.category, "images": feedback.images.len() }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(category: &str, message: &str, images: Vec<Uuid>) -> NewFeedback {
        NewFeedback { category: category.into(), message: message.into(), images }
    }

    #[test]
    fn a_short_bug_report_is_fine() {
        assert!(validate(form("bug", " ok! ", vec![])).is_ok());
    }

    #[test]
    fn every_bad_field_is_named() {
        let four = (0..4).map(|_| Uuid::new_v4()).collect();
        let fields = validate(form("rant", "no", four)).err().unwrap().fields.unwrap();
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["category", "images", "message"]);
    }

    #[test]
    fn an_image_listed_twice_is_refused() {
        let id = Uuid::new_v4();
        let fields = validate(form("other", "two of the same", vec![id, id])).err().unwrap().fields.unwrap();
        assert!(fields["images"].contains("twice"));
    }
}
