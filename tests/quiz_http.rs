//! The quiz through the local cloud (`infra/cloud start`, which `infra/test` runs): what a new user does, over
//! HTTP, against the real function binaries — sign in with locally signed initData, import a bank as the
//! development admin, browse, answer, and see statistics and the leaderboard change — and the refusals every
//! route owes bad input. The local cloud has one database, so each test uses its own Telegram ids and topic
//! names and asserts only on what it created.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::cloud::{call, fresh_telegram_id, gateway, init_data_at, init_data_for, sign_in};

async fn sign_in_admin() -> String {
    let settings = support::local_settings();
    let admin: i64 = settings["ADMIN_TELEGRAM_IDS"].split(',').next().unwrap().trim().parse().unwrap();
    sign_in(admin).await
}

/// A two-task bank under a topic of its own: one easy task with the correct answer among the answers, one hard
/// task whose answers arrive as a JSON-encoded string without the correct one (both as the earlier system wrote).
fn bank(topic: &str) -> Value {
    json!({"tasks": [
        {"topic": topic, "subtopic": "Basics", "difficulty": "easy",
         "translations": [{"language": "en", "question": "What does this print?\n\n```python\nprint(len('abc'))\n```",
                           "answers": ["2", "3", "4"], "correct_answer": "3", "explanation": "len counts characters."}]},
        {"topic": topic, "subtopic": "Basics", "difficulty": "hard",
         "translations": [{"language": "en", "question": "Which is immutable?", "answers": "[\"list\", \"dict\"]",
                           "correct_answer": "tuple", "explanation": "Tuples cannot change."}]}
    ]})
}

#[tokio::test]
async fn a_new_user_signs_in_imports_browses_answers_and_sees_stats_and_the_leaderboard_change() {
    let admin = sign_in_admin().await;
    let topic = format!("E2E Python {}", uuid::Uuid::new_v4().simple());
    let (status, report) = call(Method::POST, "/api/v1/admin/tasks/import", Some(&admin), Some(bank(&topic))).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 2, "{report}");

    let player = sign_in(fresh_telegram_id()).await;
    let (_, topics) =
        call(Method::GET, &format!("/api/v1/topics?lang=en&search={}", &topic[9..]), Some(&player), None).await;
    let listed = &topics["topics"][0];
    assert_eq!(listed["name"], topic.as_str(), "{topics}");
    assert_eq!(listed["task_count"], 2);
    assert_eq!(listed["answered_count"], 0);
    let topic_id = listed["id"].as_i64().unwrap();

    let (_, subtopics) =
        call(Method::GET, &format!("/api/v1/topics/{topic_id}/subtopics?lang=en"), Some(&player), None).await;
    let subtopic = &subtopics["subtopics"][0];
    assert_eq!(subtopic["task_counts"], json!({"easy": 1, "medium": 0, "hard": 1, "total": 2}));
    let subtopic_id = subtopic["id"].as_i64().unwrap();

    let feed_path = format!("/api/v1/subtopics/{subtopic_id}/tasks?lang=en");
    let raw = Client::new()
        .get(format!("{}{feed_path}", gateway()))
        .bearer_auth(&player)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !raw.contains("correct_index") && !raw.contains("len counts characters"),
        "the feed gave the answer away: {raw}"
    );
    let feed: Value = serde_json::from_str(&raw).unwrap();
    let easy = feed["tasks"].as_array().unwrap().iter().find(|t| t["difficulty"] == "easy").unwrap().clone();
    let right = easy["options"].as_array().unwrap().iter().position(|o| o == "3").unwrap();

    let (status, outcome) = call(
        Method::POST,
        &format!("/api/v1/tasks/{}/answer", easy["id"]),
        Some(&player),
        Some(json!({"option_index": right})),
    )
    .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(
        (outcome["correct"].clone(), outcome["counted"].clone(), outcome["rating"].clone()),
        (json!(true), json!(true), json!(10))
    );
    assert_eq!(outcome["explanation"], "len counts characters.");
    // Practice does not move anything.
    let (_, again) = call(
        Method::POST,
        &format!("/api/v1/tasks/{}/answer", easy["id"]),
        Some(&player),
        Some(json!({"dont_know": true})),
    )
    .await;
    assert_eq!((again["counted"].clone(), again["rating"].clone()), (json!(false), json!(10)));

    let (_, stats) = call(Method::GET, "/api/v1/me/stats", Some(&player), None).await;
    assert_eq!(stats["solved"], 1, "{stats}");
    assert_eq!(stats["rating"], 10);
    assert_eq!(stats["answers"], 2);
    assert!(stats["achievements"].as_array().unwrap().iter().any(|a| a["code"] == "first_answer"));

    let (_, feed) = call(Method::GET, &feed_path, Some(&player), None).await;
    let answered = feed["tasks"].as_array().unwrap().iter().find(|t| t["id"] == easy["id"]).unwrap();
    assert_eq!(answered["correct_index"], right);

    // The local cloud's one database holds every run's players, so the whole board need not reach this one: the
    // board of the players who chose this run's topic holds exactly them.
    let (status, body) =
        call(Method::PATCH, "/api/v1/me", Some(&player), Some(json!({"favourite_topic_ids": [topic_id]}))).await;
    assert_eq!(status, 200, "{body}");
    let (_, board) = call(Method::GET, &format!("/api/v1/leaderboard?topic={topic_id}"), None, None).await;
    assert_eq!(board["rows"].as_array().map(Vec::len), Some(1), "{board}");
    let me = &board["rows"][0];
    assert_eq!(
        (me["user_id"].clone(), me["name"].clone(), me["rating"].clone(), me["solved"].clone(), me["rank"].clone()),
        (stats["user_id"].clone(), json!("E2E Player"), json!(10), json!(1), json!(1)),
        "{board}"
    );
}

#[tokio::test]
async fn forged_and_stale_init_data_is_refused_over_http() {
    let token = &support::local_settings()["TELEGRAM_BOT_TOKEN"];
    let cases = [
        ("forged", init_data_for(fresh_telegram_id(), "1:forged-token-forged-token-forged"), "not signed by our bot"),
        ("altered", init_data_for(fresh_telegram_id(), token).replace("E2E", "Admin"), "not signed by our bot"),
        // Genuinely signed, but two days old.
        (
            "stale",
            init_data_at(fresh_telegram_id(), token, chrono::Utc::now() - chrono::Duration::days(2)),
            "too old; sign in again",
        ),
    ];
    for (case, init_data, reason) in cases {
        let (status, body) =
            call(Method::POST, "/api/v1/auth/telegram/mini-app", None, Some(json!({"init_data": init_data}))).await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), body["error"]["message"].as_str()),
            (
                StatusCode::UNAUTHORIZED,
                Some("unauthorized"),
                Some(format!("Telegram sign-in data is {reason}").as_str())
            ),
            "{case}: {body}"
        );
    }
}

#[tokio::test]
async fn a_player_cannot_import_or_publish() {
    let player = sign_in(fresh_telegram_id()).await;
    let (status, body) = call(Method::POST, "/api/v1/admin/tasks/import", Some(&player), Some(bank("Nope"))).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")));
    let (status, _) =
        call(Method::PATCH, "/api/v1/admin/tasks/1", Some(&player), Some(json!({"published": false}))).await;
    assert_eq!(status, 403);
    let (status, _) = call(Method::POST, "/api/v1/admin/tasks/import", None, Some(bank("Nope"))).await;
    assert_eq!(status, 401);
}

/// Every route answers bad input with a 4xx and the documented error body — never a 500.
#[tokio::test]
async fn every_route_refuses_bad_input_with_a_json_error() {
    let player = sign_in(fresh_telegram_id()).await;
    let admin = sign_in_admin().await;
    let cases: Vec<(Method, &str, Option<&str>, Option<Value>, u16)> = vec![
        (Method::POST, "/api/v1/auth/telegram/mini-app", None, Some(json!({"init_data": 5})), 400),
        (Method::POST, "/api/v1/auth/telegram/mini-app", None, Some(json!({})), 400),
        (Method::POST, "/api/v1/auth/telegram/widget", None, Some(json!({"id": 1})), 400),
        (
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "not-an-address", "password": "short"})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "x@example.com", "password": "p".repeat(200)})),
            400,
        ),
        (Method::POST, "/api/v1/auth/login", None, Some(json!({"email": "x@example.com"})), 400),
        (Method::POST, "/api/v1/auth/password-reset", None, Some(json!({"email": ["x"]})), 400),
        (
            Method::POST,
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(json!({"token": "00", "new_password": "long enough pass"})),
            400,
        ),
        (Method::GET, "/api/v1/me", None, None, 401),
        (Method::PATCH, "/api/v1/me", Some(&player), Some(json!({"gender": "robot"})), 400),
        (Method::PATCH, "/api/v1/me", Some(&player), Some(json!({"bio": "x".repeat(5000)})), 400),
        (Method::PATCH, "/api/v1/me", Some(&player), Some(json!({"is_admin": true})), 400),
        (Method::PATCH, "/api/v1/me", Some(&player), Some(json!({"favourite_topic_ids": [999999999]})), 400),
        (Method::POST, "/api/v1/me/heartbeat", Some("not-a-token"), None, 401),
        (Method::GET, "/api/v1/me/stats", None, None, 401),
        (Method::GET, "/api/v1/topics?lang=english", None, None, 400),
        (Method::GET, "/api/v1/topics/abc", None, None, 400),
        (Method::GET, "/api/v1/topics/999999999", None, None, 404),
        (Method::GET, "/api/v1/topics/999999999/subtopics", None, None, 404),
        (Method::GET, "/api/v1/subtopics/999999999/tasks", None, None, 404),
        (Method::GET, "/api/v1/subtopics/1/tasks?difficulty=extreme", None, None, 400),
        (Method::GET, "/api/v1/subtopics/1/tasks?limit=0", None, None, 400),
        (Method::POST, "/api/v1/tasks/999999999/answer", Some(&player), Some(json!({"option_index": 0})), 404),
        (Method::POST, "/api/v1/tasks/1/answer", Some(&player), Some(json!({"option_index": "zero"})), 400),
        (Method::POST, "/api/v1/tasks/1/answer", None, Some(json!({"option_index": 0})), 401),
        (Method::GET, "/api/v1/users/999999999", None, None, 404),
        (Method::GET, "/api/v1/users/-4", None, None, 400),
        (Method::GET, "/api/v1/leaderboard?gender=robot", None, None, 400),
        (Method::GET, "/api/v1/leaderboard?age=17-20", None, None, 400),
        (Method::GET, "/api/v1/leaderboard?limit=1000", None, None, 400),
        (Method::POST, "/api/v1/admin/tasks/import", Some(&admin), Some(json!({"questions": []})), 400),
        (Method::POST, "/api/v1/admin/tasks/import", Some(&admin), Some(json!({"tasks": []})), 422),
        (Method::PATCH, "/api/v1/admin/tasks/999999999", Some(&admin), Some(json!({"published": true})), 404),
        (Method::PATCH, "/api/v1/admin/tasks/1", Some(&admin), Some(json!({"published": "yes"})), 400),
    ];
    for (method, path, token, body, expected) in cases {
        let (status, answer) = call(method.clone(), path, token, body.clone()).await;
        assert_eq!(status.as_u16(), expected, "{method} {path} {body:?} answered {answer}");
        assert!(
            answer["error"]["code"].is_string() && answer["error"]["message"].is_string(),
            "{method} {path}: {answer}"
        );
    }
}

/// A NUL character (U+0000) in any text a client sends is a 400 naming the field, at the edge: PostgreSQL cannot
/// store it, and before it was a 500 wherever such text reached a statement.
#[tokio::test]
async fn a_nul_character_in_any_text_is_a_400_naming_the_field() {
    let player = sign_in(fresh_telegram_id()).await;
    let bot_token = support::local_settings()["TELEGRAM_BOT_TOKEN"].clone();
    let signed = |first_name: &str, photo_url: Option<&str>| {
        let user = shared::identity::telegram::TelegramUser {
            id: fresh_telegram_id(),
            first_name: first_name.into(),
            last_name: None,
            username: None,
            photo_url: photo_url.map(String::from),
            language_code: Some("en".into()),
        };
        shared::identity::telegram::sign_init_data(&user, chrono::Utc::now(), &bot_token)
    };
    let cases: Vec<(Method, String, Option<&str>, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/api/v1/auth/telegram/mini-app".into(),
            None,
            Some(json!({"init_data": signed("Ada\u{0}", None)})),
            "init_data.user.first_name",
        ),
        (
            Method::POST,
            "/api/v1/auth/telegram/mini-app".into(),
            None,
            Some(json!({"init_data": signed("Ada", Some("https://t.me/i/\u{0}.jpg"))})),
            "init_data.user.photo_url",
        ),
        (
            Method::POST,
            "/api/v1/contact".into(),
            None,
            Some(json!({"name": "A\u{0}da", "email": "ada@example.com", "message": "Hello there, friends"})),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/feedback".into(),
            Some(&player),
            Some(json!({"category": "bug", "message": "It\u{0} broke"})),
            "message",
        ),
        (
            Method::POST,
            "/api/v1/auth/register".into(),
            None,
            Some(json!({"email": "nul@example.com", "password": "correct horse 1", "first_name": "N\u{0}"})),
            "first_name",
        ),
        (Method::PATCH, "/api/v1/me".into(), Some(&player), Some(json!({"bio": "a\u{0}b"})), "bio"),
        (Method::GET, "/api/v1/blog/posts?search=a%00b".into(), None, None, "search"),
        (Method::GET, "/api/v1/topics?lang=en&search=%00".into(), None, None, "search"),
    ];
    for (method, path, token, body, field) in cases {
        let (status, answer) = call(method.clone(), &path, token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["fields"][field], "must not contain NUL characters", "{method} {path}: {answer}");
    }
}

/// A JSON route refuses a body that is not declared JSON (415), so a cross-site form post cannot reach it.
#[tokio::test]
async fn a_json_route_refuses_a_form_post_with_415() {
    let client = Client::new();
    for (path, content_type) in [
        ("/api/v1/contact", Some("application/x-www-form-urlencoded")),
        ("/api/v1/auth/login", Some("text/plain")),
        ("/api/v1/auth/register", None),
    ] {
        let mut request =
            client.post(format!("{}{path}", gateway())).body(r#"{"email": "ada@example.com", "password": "x"}"#);
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path} {content_type:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unsupported_media_type", "{path}: {body}");
    }
}

/// Polls an upload until it leaves `processing` (the job runs behind the event bus and a queue).
async fn settled_upload(token: &str, id: &str) -> Value {
    for _ in 0..60 {
        let (status, body) = call(Method::GET, &format!("/api/v1/uploads/{id}"), Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] != "processing" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("upload {id} still processing after 30 s");
}

#[tokio::test]
async fn a_new_user_uploads_an_avatar_and_gets_the_processed_image() {
    let token = sign_in(fresh_telegram_id()).await;
    // A 3000×2000 phone photo with EXIF.
    let photo = media::test_support::with_exif(&media::test_support::jpeg(3000, 2000), 1);
    let (status, ticket) = call(
        Method::POST,
        "/api/v1/uploads",
        Some(&token),
        Some(json!({"purpose": "avatar", "content_type": "image/jpeg", "size": photo.len()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();

    // The bytes go straight to the bucket through the pre-signed URL, with the headers it was signed for.
    let mut put = Client::new().put(ticket["upload"]["url"].as_str().unwrap());
    for (name, value) in ticket["upload"]["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    assert!(put.body(photo).send().await.unwrap().status().is_success());

    let (status, body) = call(Method::POST, &format!("/api/v1/uploads/{id}/complete"), Some(&token), None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::ACCEPTED, Some("processing")), "{body}");
    // complete-upload -> upload.completed -> rule -> uploads queue -> process-uploaded-file
    let upload = settled_upload(&token, id).await;
    assert_eq!(upload["status"], "ready", "{upload}");
    assert_eq!(
        (upload["width"].as_i64(), upload["height"].as_i64()),
        (Some(2000), Some(2000)),
        "a square avatar: {upload}"
    );

    // The processed image is served where the API says, and it is the user's avatar now.
    let url = upload["url"].as_str().unwrap();
    let image = Client::new().get(url).send().await.unwrap();
    assert!(image.status().is_success(), "{url}: {}", image.status());
    let bytes = image.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (2000, 2000));
    assert!(!media::test_support::contains(&bytes, b"Exif"), "metadata stripped");
    let (_, me) = call(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me["avatar_url"].as_str(), Some(url), "{me}");
}

#[tokio::test]
async fn an_admin_publishes_a_post_and_its_page_shares_the_generated_open_graph_image() {
    let admin = sign_in_admin().await;
    let unique = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let (status, category) = call(
        Method::POST,
        "/api/v1/admin/blog/categories",
        Some(&admin),
        Some(json!({"slug": format!("rust-{unique}"), "name": "Rust"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{category}");
    let slug = format!("borrowing-{unique}");
    let title = "Borrowing <without> tears & \"fear\"";
    let (status, post) = call(
        Method::POST,
        "/api/v1/admin/blog/posts",
        Some(&admin),
        Some(json!({"slug": slug, "title": title, "excerpt": "Lifetimes, gently.", "category_id": category["id"],
                    "content_html": "<p>Hello<script>alert(1)</script></p>", "published": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let (status, _) =
        Client::new().get(format!("{}/blog/{slug}", gateway())).send().await.map(|r| (r.status(), ())).unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND, "a draft has no page");

    // Publishing: update-blog-post -> post.published -> rule -> og queue -> generate-og-image -> S3 and the post.
    let (status, body) = call(
        Method::PATCH,
        &format!("/api/v1/admin/blog/posts/{}", post["id"]),
        Some(&admin),
        Some(json!({"published": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut page = String::new();
    for _ in 0..60 {
        let response = Client::new().get(format!("{}/blog/{slug}", gateway())).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        page = response.text().await.unwrap();
        if page.contains("/og/") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        page.contains(
            "<meta property=\"og:title\" content=\"Borrowing &#60;without&#62; tears &#38; &#34;fear&#34;\">"
        ),
        "the title, escaped: {page}"
    );
    assert!(!page.contains("<without>"), "nothing of the title is markup");
    assert!(!page.contains("<script>alert"), "the script was cleaned out");
    let og_image = page
        .split("property=\"og:image\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("an og:image on the page: {page}"));
    let image = Client::new().get(og_image).send().await.unwrap();
    assert!(image.status().is_success(), "{og_image}: {}", image.status());
    let decoded = image::load_from_memory(&image.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1200, 630));
    let first = decoded.to_rgb8().get_pixel(0, 0).0;
    assert!(decoded.to_rgb8().pixels().any(|p| p.0 != first), "not one colour");
}

/// The Mini App's files from the `mini-app` function: the entry redirect keeps the deep link, the page has its own
/// policy (Telegram's script, framing by Telegram's web clients) and names its files by version, the files are
/// cached for good and revalidate with their ETag, and an unknown file is a JSON 404. What the app does is the
/// browser tests' part (`tests/browser/`).
#[tokio::test]
async fn the_mini_app_is_served_at_app_with_its_policy_versions_and_validators() {
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let entry = client.get(format!("{}/app?startapp=topic_7", gateway())).send().await.unwrap();
    assert_eq!(entry.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(entry.headers()["location"], "/app/?startapp=topic_7");

    let page = client.get(format!("{}/app/?startapp=topic_7", gateway())).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(headers["cache-control"], "no-cache");
    let policy = headers["content-security-policy"].to_str().unwrap();
    for part in [
        "script-src 'self' https://telegram.org",
        "frame-ancestors 'self' https://web.telegram.org",
        "connect-src 'self' http://127.0.0.1:",
    ] {
        assert!(policy.contains(part), "{part:?} in {policy}");
    }
    assert!(!headers.contains_key("x-frame-options"), "Telegram's web clients show the app in a frame");
    let html = page.text().await.unwrap();
    assert!(html.contains("https://telegram.org/js/telegram-web-app.js"), "the page loads Telegram's script");
    let script = html
        .split("src=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|src| src.starts_with("app.js?v="))
        .unwrap_or_else(|| panic!("the page names app.js by version: {html}"));

    // A path of the app without an extension is the page too (it routes by the hash).
    let deep = client.get(format!("{}/app/topics", gateway())).send().await.unwrap();
    assert_eq!(deep.status(), StatusCode::OK);
    assert_eq!(deep.text().await.unwrap(), html);

    let file = client.get(format!("{}/app/{script}", gateway())).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert!(file.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(file.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(file.headers()["vary"], "Accept-Encoding, Origin", "both reasons to vary reach the client");
    let etag = file.headers()["etag"].clone();
    assert!(!file.text().await.unwrap().is_empty());
    let again =
        client.get(format!("{}/app/app.js", gateway())).header("if-none-match", etag.clone()).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag);
    assert!(again.text().await.unwrap().is_empty());

    let (status, body) = call(Method::GET, "/app/no-such-file.js", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}
