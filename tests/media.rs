//! Uploads, their processing, feedback images and the media clean-up, against the real services: PostgreSQL,
//! Redis, and S3, SQS and EventBridge on the local AWS endpoint. The client's PUT goes to the pre-signed URL
//! over HTTP, as a browser's would.

use std::time::Duration;

use http::{Method, StatusCode};
use media::test_support;
use platform::http::{ApiRequest, ApiResponse};
use platform::jobs::JobEnvelope;
use serde_json::{Value as Json, json};
use shared::media_cleanup::{self, Cleanup};
use shared::uploads::{self, Processing};
use support::{TestPlatform, delete, platform, receive, user_with_session};
use uuid::Uuid;

fn request(method: Method, path: &str, token: &str, params: &[(&str, String)], body: Option<Json>) -> ApiRequest {
    let mut request = ApiRequest::new(method, path);
    request.headers.insert(http::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    request.path_params = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    if let Some(body) = body {
        request.set_json_body(body.to_string().into_bytes());
    }
    request
}

fn json_of(response: &ApiResponse) -> Json {
    serde_json::from_slice(&response.body).unwrap()
}

/// What a route answered, success or error, as status and JSON.
async fn call<F>(route: F) -> (StatusCode, Json)
where
    F: std::future::Future<Output = Result<ApiResponse, platform::http::ApiError>>,
{
    let response = route.await.unwrap_or_else(|e| e.to_response());
    (response.status, json_of(&response))
}

async fn create(p: &TestPlatform, token: &str, purpose: &str, content_type: &str, size: usize) -> (StatusCode, Json) {
    let body = json!({ "purpose": purpose, "content_type": content_type, "size": size });
    call(uploads::create(p, request(Method::POST, "/api/v1/uploads", token, &[], Some(body)))).await
}

async fn complete(p: &TestPlatform, token: &str, id: &str) -> (StatusCode, Json) {
    let path = format!("/api/v1/uploads/{id}/complete");
    call(uploads::complete(p, request(Method::POST, &path, token, &[("upload_id", id.to_string())], None))).await
}

/// PUTs the bytes to the ticket's pre-signed URL with the headers it names, as a client would.
async fn put(ticket: &Json, bytes: Vec<u8>) {
    let mut put = reqwest::Client::new().put(ticket["upload"]["url"].as_str().unwrap());
    for (name, value) in ticket["upload"]["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let response = put.body(bytes).send().await.unwrap();
    assert!(response.status().is_success(), "the pre-signed PUT is accepted: {}", response.status());
}

/// The `upload.completed` event the rule delivered for one upload.
async fn completed_event(p: &TestPlatform) -> JobEnvelope {
    let messages = receive(&p.events_queue_url, 1).await;
    assert_eq!(messages.len(), 1, "one upload.completed event");
    delete(&p.events_queue_url, &messages).await;
    let job = JobEnvelope::parse(messages[0].body().unwrap()).unwrap();
    assert_eq!(job.event.as_deref(), Some("upload.completed"));
    job
}

/// Creates, PUTs, completes and processes one upload; returns its id and what processing did.
async fn upload(
    p: &TestPlatform,
    token: &str,
    purpose: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (String, Processing) {
    let (status, ticket) = create(p, token, purpose, content_type, bytes.len()).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap().to_string();
    put(&ticket, bytes).await;
    let (status, body) = complete(p, token, &id).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::ACCEPTED, Some("processing")), "{body}");
    let event = completed_event(p).await;
    assert_eq!(event.id.to_string(), id, "the event carries the upload's id");
    let processing = uploads::process(p, event.id).await.unwrap();
    (id, processing)
}

async fn view(p: &TestPlatform, token: &str, id: &str) -> Json {
    let path = format!("/api/v1/uploads/{id}");
    let (status, body) =
        call(uploads::get(p, request(Method::GET, &path, token, &[("upload_id", id.to_string())], None))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn count(p: &TestPlatform, sql: &str) -> i64 {
    p.db.connection().await.unwrap().query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_4000_by_3000_photo_comes_out_at_most_2000_wide_without_exif_and_becomes_the_avatar_square() {
    let p = platform().await;
    let (user, token) = user_with_session(&p, "Ada", false).await;
    let photo = test_support::with_exif(&test_support::jpeg(4000, 3000), 6);
    assert!(test_support::contains(&photo, b"Exif"));

    // As a post-sized image (an admin's) and as an avatar.
    let (_, admin_token) = user_with_session(&p, "Admin", true).await;
    let (post_image, processing) = upload(&p, &admin_token, "post_image", "image/jpeg", photo.clone()).await;
    let Processing::Ready { key } = processing else { panic!("processed: {processing:?}") };
    let stored = p.storage.get(&key).await.unwrap().expect("the processed object");
    let decoded = image::load_from_memory(&stored).unwrap();
    // Orientation 6 turns the 4000×3000 landscape into a 3000×4000 portrait, then it is fit into 2000×2000.
    assert_eq!((decoded.width(), decoded.height()), (1500, 2000));
    assert!(!test_support::contains(&stored, b"Exif"), "no EXIF left");
    let listed = view(&p, &admin_token, &post_image).await;
    assert_eq!((listed["status"].as_str(), listed["width"].as_i64()), (Some("ready"), Some(1500)), "{listed}");
    assert_eq!(listed["url"].as_str(), Some(p.storage.public_url(&key).as_str()));
    assert!(p.storage.get(&format!("uploads/{post_image}")).await.unwrap().is_none(), "the original is gone");

    let (avatar, processing) = upload(&p, &token, "avatar", "image/jpeg", photo).await;
    let Processing::Ready { key } = processing else { panic!("processed: {processing:?}") };
    let decoded = image::load_from_memory(&p.storage.get(&key).await.unwrap().unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (2000, 2000), "avatars are square");
    let avatar_url: Option<String> =
        p.db.connection()
            .await
            .unwrap()
            .query_one("SELECT avatar_url FROM users WHERE id = $1", &[&user])
            .await
            .unwrap()
            .get(0);
    assert_eq!(avatar_url, Some(p.storage.public_url(&key)), "the user's avatar");
    assert_eq!(view(&p, &token, &avatar).await["url"].as_str(), avatar_url.as_deref());

    // A second delivery of the event does nothing.
    assert_eq!(uploads::process(&p, avatar.parse().unwrap()).await.unwrap(), Processing::NothingToDo);
}

#[tokio::test]
async fn a_text_file_declared_as_png_is_rejected_once_and_not_retried() {
    let p = platform().await;
    let (_, token) = user_with_session(&p, "Mallory", false).await;
    let text = b"this is not an image, whatever its name says\n".repeat(20);
    let (id, processing) = upload(&p, &token, "feedback_image", "image/png", text).await;
    let Processing::Rejected { reason } = processing else { panic!("rejected: {processing:?}") };
    assert!(reason.contains("not an image"), "{reason}");
    let listed = view(&p, &token, &id).await;
    assert_eq!((listed["status"].as_str(), listed["rejection"].as_str()), (Some("rejected"), Some(reason.as_str())));
    assert!(listed["url"].is_null());
    // Done, not failed: the queue does not retry it, and a redelivery changes nothing.
    assert_eq!(uploads::process(&p, id.parse().unwrap()).await.unwrap(), Processing::NothingToDo);
    assert!(p.storage.list("media/").await.unwrap().is_empty(), "nothing was stored to serve");
    // Completing again answers the final state.
    let (status, body) = complete(&p, &token, &id).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("rejected")));
}

#[tokio::test]
async fn bad_upload_requests_are_4xx_json_and_leave_nothing_behind() {
    let p = platform().await;
    let (_, token) = user_with_session(&p, "Eve", false).await;
    let (status, body) = create(&p, &token, "banner", "application/pdf", 0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&String> = body["error"]["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["content_type", "purpose", "size"], "{body}");
    let (status, body) = create(&p, &token, "avatar", "image/png", 6 * 1024 * 1024).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = create(&p, &token, "post_image", "image/png", 1000).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "post images are the admins'");
    let (status, _) = call(uploads::create(&p, ApiRequest::new(Method::POST, "/api/v1/uploads"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&p, "SELECT count(*) FROM uploads").await, 0, "nothing recorded");

    // Completing before the PUT, someone else's upload, a malformed id.
    let (_, ticket) = create(&p, &token, "avatar", "image/png", 1000).await;
    let id = ticket["id"].as_str().unwrap();
    let (status, body) = complete(&p, &token, id).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_uploaded")));
    let (_, other) = user_with_session(&p, "Trudy", false).await;
    assert_eq!(complete(&p, &other, id).await.0, StatusCode::NOT_FOUND);
    assert_eq!(complete(&p, &token, "not-a-uuid").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        count(&p, "SELECT count(*) FROM uploads WHERE status = 'pending'").await,
        1,
        "still waiting for its bytes"
    );

    // Three unfinished avatars at most.
    create(&p, &token, "avatar", "image/png", 1000).await;
    create(&p, &token, "avatar", "image/png", 1000).await;
    let (status, body) = create(&p, &token, "avatar", "image/png", 1000).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("too_many_unfinished_avatars")));
}

#[tokio::test]
async fn a_user_keeps_their_three_newest_avatars_sees_them_picks_one_and_removes_them() {
    let p = platform().await;
    let (user, token) = user_with_session(&p, "Grace", false).await;
    let mut keys = Vec::new();
    for i in 0..4 {
        let (_, processing) = upload(&p, &token, "avatar", "image/png", test_support::png(40 + i, 30, false)).await;
        let Processing::Ready { key } = processing else { panic!("{processing:?}") };
        keys.push(key);
    }
    let kept: Vec<String> =
        p.db.connection()
            .await
            .unwrap()
            .query("SELECT processed_key FROM uploads WHERE user_id = $1 ORDER BY processed_at", &[&user])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(kept, keys[1..], "the oldest avatar's row is retired");

    // The player sees the three, newest first, the newest shown; picks the oldest; removes it; removes the rest.
    async fn me(p: &TestPlatform, token: &str) -> (StatusCode, Json) {
        call(shared::users::me::get_me(p, request(Method::GET, "/api/v1/me", token, &[], None))).await
    }
    async fn change(p: &TestPlatform, token: &str, body: Json) -> (StatusCode, Json) {
        call(shared::users::me::update_me(p, request(Method::PATCH, "/api/v1/me", token, &[], Some(body)))).await
    }
    async fn remove(p: &TestPlatform, token: &str, id: String) -> (StatusCode, Json) {
        let path = format!("/api/v1/me/avatars/{id}");
        call(shared::users::me::remove_avatar(p, request(Method::DELETE, &path, token, &[("avatar_id", id)], None)))
            .await
    }
    let (status, body) = me(&p, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<&Json> = body["avatars"].as_array().unwrap().iter().collect();
    let urls: Vec<String> = keys[1..].iter().rev().map(|k| p.storage.public_url(k)).collect();
    assert_eq!(listed.iter().map(|a| a["url"].as_str().unwrap()).collect::<Vec<_>>(), urls, "newest first");
    assert_eq!(listed.iter().map(|a| a["current"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false, false]);
    let oldest = listed[2]["id"].as_str().unwrap().to_string();

    let (status, body) = change(&p, &token, json!({"avatar_id": oldest, "bio": "picked"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["avatar_url"], urls[2].as_str());
    assert_eq!(body["avatars"][2]["current"], true);
    let (status, body) = change(&p, &token, json!({"avatar_id": Uuid::new_v4(), "bio": "not written"})).await;
    assert_eq!(
        (status, body["error"]["fields"]["avatar_id"].as_str()),
        (StatusCode::BAD_REQUEST, Some("is not one of your avatars"))
    );
    let (status, body) = change(&p, &token, json!({"avatar_id": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(me(&p, &token).await.1["bio"], "picked", "a refused change writes nothing");

    let (status, body) = remove(&p, &token, oldest.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["avatars"].as_array().unwrap().len(), 2);
    assert_eq!(body["avatar_url"], urls[0].as_str(), "the newest left is shown instead of the removed one");
    assert_eq!(body["avatars"][0]["current"], true);
    let (status, body) = remove(&p, &token, oldest).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) = remove(&p, &token, "not-a-uuid".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Removing one that is not shown leaves the shown one.
    let (_, body) = me(&p, &token).await;
    let second = body["avatars"][1]["id"].as_str().unwrap().to_string();
    let (_, body) = remove(&p, &token, second).await;
    assert_eq!(body["avatar_url"], urls[0].as_str());
    let last = body["avatars"][0]["id"].as_str().unwrap().to_string();
    let (_, body) = remove(&p, &token, last).await;
    assert_eq!((body["avatar_url"].clone(), body["avatars"].as_array().unwrap().len()), (Json::Null, 0));
}

#[tokio::test]
async fn feedback_takes_up_to_three_of_the_users_own_ready_images_all_or_nothing() {
    let p = platform().await;
    let (user, token) = user_with_session(&p, "Linus", false).await;
    let mut images = Vec::new();
    for i in 0..4 {
        images.push(upload(&p, &token, "feedback_image", "image/png", test_support::png(20 + i, 20, false)).await.0);
    }
    let submit = |body: Json| {
        let p = &p;
        let token = token.clone();
        async move {
            call(shared::feedback::submit(p, request(Method::POST, "/api/v1/feedback", &token, &[], Some(body)))).await
        }
    };
    let (status, body) = submit(json!({ "category": "bug", "message": "too many", "images": images })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, stranger) = user_with_session(&p, "Stranger", false).await;
    let (foreign, _) = upload(&p, &stranger, "feedback_image", "image/png", test_support::png(10, 10, false)).await;
    let (status, body) =
        submit(json!({ "category": "bug", "message": "not mine", "images": [images[0], foreign] })).await;
    assert_eq!((status, body["error"]["fields"]["images"].is_string()), (StatusCode::BAD_REQUEST, true), "{body}");
    assert_eq!(count(&p, "SELECT count(*) FROM feedback").await, 0, "nothing half-written");

    let (status, body) =
        submit(json!({ "category": "suggestion", "message": "Dark mode, please", "images": images[..3] })).await;
    assert_eq!((status, body["images"].as_i64()), (StatusCode::CREATED, Some(3)), "{body}");
    let stored: (String, i64) = {
        let conn = p.db.connection().await.unwrap();
        let row = conn
            .query_one("SELECT f.message, (SELECT count(*) FROM feedback_images i WHERE i.feedback_id = f.id) FROM feedback f WHERE user_id = $1", &[&user])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(stored, ("Dark mode, please".to_string(), 3));
    let (status, _) = submit(json!({ "category": "other", "message": "again", "images": [images[0]] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an image belongs to one feedback");
}

#[tokio::test]
async fn the_clean_up_deletes_only_unreferenced_objects_past_the_grace_period_and_a_dry_run_deletes_nothing() {
    let p = platform().await;
    let (_, token) = user_with_session(&p, "Ken", false).await;
    let (kept_upload, _) = upload(&p, &token, "avatar", "image/png", test_support::png(30, 30, false)).await;
    let kept_key: String =
        p.db.connection().await.unwrap().query_one("SELECT processed_key FROM uploads", &[]).await.unwrap().get(0);
    // Orphans: a processed object no row names, an original of no upload, and a stray og image.
    for key in ["media/avatar/00000000-0000-4000-8000-000000000001.png", "uploads/not-an-id", "og/deadbeef.png"] {
        p.storage.put(key, vec![7; 100], "image/png").await.unwrap();
    }
    // An abandoned upload: created, never completed, backdated two days.
    let (_, ticket) = create(&p, &token, "feedback_image", "image/png", 10).await;
    put(&ticket, vec![1; 10]).await;
    let abandoned = ticket["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    p.db.connection()
        .await
        .unwrap()
        .execute("UPDATE uploads SET created_at = now() - interval '2 days' WHERE id = $1", &[&abandoned])
        .await
        .unwrap();

    // Inside the grace period no object goes; the abandoned upload's row does.
    let young = media_cleanup::run(
        &p,
        Cleanup { dry_run: false, grace: Duration::from_secs(3600), abandoned_after: Duration::from_secs(86400) },
    )
    .await
    .unwrap();
    assert_eq!((young.deleted, young.kept_young, young.abandoned_uploads), (0, 4, 1), "{young:?}");

    let settings = Cleanup { dry_run: true, grace: Duration::ZERO, abandoned_after: Duration::from_secs(86400) };
    let dry = media_cleanup::run(&p, settings).await.unwrap();
    assert_eq!(
        (dry.deleted, dry.deleted_bytes, dry.abandoned_uploads),
        (4, 310, 0),
        "the orphans and the abandoned original: {dry:?}"
    );
    assert_eq!(dry.keys.len(), 4);
    let objects = |p: &TestPlatform| {
        let storage = p.storage.clone();
        async move {
            let mut all = Vec::new();
            for prefix in ["uploads/", "media/", "og/"] {
                all.extend(storage.list(prefix).await.unwrap().into_iter().map(|o| o.key));
            }
            all.sort();
            all
        }
    };
    assert_eq!(objects(&p).await.len(), 5, "a dry run deletes nothing");

    let real = media_cleanup::run(&p, Cleanup { dry_run: false, ..settings }).await.unwrap();
    assert_eq!((real.deleted, real.deleted_bytes), (4, 310), "{real:?}");
    assert_eq!(objects(&p).await, [kept_key], "only the referenced object is left");
    assert_eq!(view(&p, &token, &kept_upload).await["status"], "ready");
    assert_eq!(count(&p, "SELECT count(*) FROM uploads").await, 1, "the abandoned upload is forgotten");
}
