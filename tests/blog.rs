//! The blog against the real services: PostgreSQL, Redis, and S3, SQS and EventBridge on the local AWS endpoint.
//! Handlers are called in process, as the trigger adapter calls them; each test has its own database, key prefix,
//! bucket and event bus (see `support`), whose every event lands on `events_queue_url`.

use chrono::Utc;
use platform::Platform;
use platform::jobs::JobEnvelope;
use serde_json::{Value as Json, json};
use shared::blog::{admin, og, page, reader};
use support::calls::{Reply, User, admin_user, delete, get, patch, player, post};
use support::{TestPlatform, platform};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------------------------------------------

async fn create_category(p: &Platform, token: Option<&str>, slug: &str, name: &str) -> Reply {
    post("/api/v1/admin/blog/categories")
        .maybe_bearer(token)
        .json(&json!({ "slug": slug, "name": name }))
        .send(p, admin::create_category)
        .await
}

async fn create_post(p: &Platform, token: Option<&str>, body: Json) -> Reply {
    post("/api/v1/admin/blog/posts").maybe_bearer(token).json(&body).send(p, admin::create_post).await
}

async fn update_post(p: &Platform, token: Option<&str>, post_id: i64, body: Json) -> Reply {
    patch("/api/v1/admin/blog/posts/x")
        .param("post_id", post_id)
        .maybe_bearer(token)
        .json(&body)
        .send(p, admin::update_post)
        .await
}

async fn get_post(p: &Platform, token: Option<&str>, slug: &str) -> Reply {
    get("/api/v1/blog/posts/x").param("slug", slug).maybe_bearer(token).send(p, reader::get_post).await
}

async fn post_page(p: &Platform, slug: &str) -> Reply {
    get("/blog/x").param("slug", slug).send(p, page::post_page).await
}

async fn list(p: &Platform, query: &[(&str, &str)]) -> Reply {
    let mut c = get("/api/v1/blog/posts");
    for (name, value) in query {
        c = c.query(name, value);
    }
    c.send(p, reader::list_posts).await
}

async fn like(p: &Platform, token: Option<&str>, slug: &str, liked: bool) -> Reply {
    if liked {
        post("/like").param("slug", slug).maybe_bearer(token).send(p, reader::like).await
    } else {
        delete("/like").param("slug", slug).maybe_bearer(token).send(p, reader::unlike).await
    }
}

/// A category and a post in it; the post is published when `published`.
async fn category_and_post(p: &Platform, admin: &User, category: &str, slug: &str, published: bool) -> (i64, Json) {
    let category_id = match create_category(p, Some(&admin.token), category, &category.to_uppercase()).await {
        r if r.status == 201 => r.body["id"].as_i64().unwrap(),
        // Already made by an earlier call of this test.
        _ => category_id_of(p, category).await,
    };
    let post = create_post(p, Some(&admin.token), post_body(slug, category_id, published)).await.ok();
    (category_id, post)
}

async fn category_id_of(p: &Platform, slug: &str) -> i64 {
    let conn = p.db.connection().await.unwrap();
    conn.query_one("SELECT id FROM blog_categories WHERE slug = $1", &[&slug]).await.unwrap().get(0)
}

fn post_body(slug: &str, category_id: i64, published: bool) -> Json {
    json!({
        "slug": slug,
        "title": format!("Post {slug}"),
        "excerpt": format!("About {slug}"),
        "content_html": format!("<p>The text of {slug}.</p>"),
        "category_id": category_id,
        "published": published,
    })
}

async fn count(p: &Platform, sql: &str) -> i64 {
    p.db.connection().await.unwrap().query_one(sql, &[]).await.unwrap().get(0)
}

/// A processed upload of `user`, as the upload jobs leave it.
async fn upload(p: &Platform, user_id: i64, purpose: &str, status: &str) -> Uuid {
    let id = Uuid::new_v4();
    let key = (status == "ready").then(|| format!("media/{purpose}/{id}.jpg"));
    let conn = p.db.connection().await.unwrap();
    conn.execute(
        "INSERT INTO uploads (id, user_id, purpose, content_type, declared_size, status, processed_key, processed_type, width, height)
         VALUES ($1, $2, $3, 'image/jpeg', 1000, $4, $5, 'image/jpeg', 800, 600)",
        &[&id, &user_id, &purpose, &status, &key],
    )
    .await
    .unwrap();
    id
}

// ---------------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------------

/// Waits (up to `seconds`) for events on the test bus's queue, deletes and returns them as jobs.
async fn events(p: &TestPlatform, want: usize, seconds: usize) -> Vec<JobEnvelope> {
    let messages = support::receive_within(&p.events_queue_url, want, seconds).await;
    support::delete(&p.events_queue_url, &messages).await;
    messages
        .iter()
        .map(|m| JobEnvelope::parse(m.body().unwrap()).expect("the rule delivers a readable event"))
        .collect()
}

async fn post_published_events(p: &TestPlatform, want: usize, seconds: usize) -> Vec<JobEnvelope> {
    let all = events(p, want, seconds).await;
    assert!(all.iter().all(|e| e.event.as_deref() == Some("post.published")), "{all:?}");
    all
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn publishing_a_post_makes_its_open_graph_image_and_the_page_shares_it() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let category_id = create_category(&p, Some(&admin.token), "rust", "Rust").await.ok()["id"].as_i64().unwrap();
    let title = r#"Fish & <Chips> "quoted""#;
    let draft = create_post(
        &p,
        Some(&admin.token),
        json!({ "slug": "fish-and-chips", "title": title, "content_html": "<p>Hello</p>", "category_id": category_id, "excerpt": "A <b>tasty</b> excerpt" }),
    )
    .await
    .ok();
    let post_id = draft["id"].as_i64().unwrap();
    assert_eq!(draft["published"], false);
    assert!(post_published_events(&p, 1, 2).await.is_empty(), "a draft asks for no image");
    assert_eq!(post_page(&p, "fish-and-chips").await.status, 404, "a draft has no page");

    let published = update_post(&p, Some(&admin.token), post_id, json!({ "published": true })).await.ok();
    assert!(published["published_at"].is_string());
    let page_before = post_page(&p, "fish-and-chips").await;
    assert_eq!(page_before.status, 200);
    assert!(!page_before.text.contains("og:image"), "no image yet: {}", page_before.text);

    let events = post_published_events(&p, 1, 10).await;
    assert_eq!(events.len(), 1, "publishing publishes one post.published");
    assert_eq!(events[0].payload["post_id"], post_id);
    let requested: Option<chrono::DateTime<Utc>> =
        p.db.connection()
            .await
            .unwrap()
            .query_one("SELECT og_requested_at FROM posts WHERE id = $1", &[&post_id])
            .await
            .unwrap()
            .get(0);
    assert!(requested.is_some(), "the request is stored with the publish");

    let og::OgOutcome::Stored(key) = og::generate(&p, &events[0]).await.unwrap() else {
        panic!("the image was not stored")
    };
    assert!(key.starts_with("og/") && key.ends_with(".png"), "{key}");
    let png = p.storage.get(&key).await.unwrap().expect("the image is in the bucket");
    let image = image::load_from_memory_with_format(&png, image::ImageFormat::Png).expect("a PNG").to_rgb8();
    assert_eq!(image.dimensions(), (1200, 630));
    let first = *image.get_pixel(0, 0);
    assert!(image.pixels().any(|px| *px != first), "the card is not one flat colour");
    let row =
        p.db.connection()
            .await
            .unwrap()
            .query_one("SELECT og_image_key, og_requested_at FROM posts WHERE id = $1", &[&post_id])
            .await
            .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some(key.as_str()));
    assert!(row.get::<_, Option<chrono::DateTime<Utc>>>(1).is_none(), "the request is served");

    // A second delivery draws the same card under the same key.
    assert_eq!(og::generate(&p, &events[0]).await.unwrap(), og::OgOutcome::Stored(key.clone()));

    let page = post_page(&p, "fish-and-chips").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    let url = p.storage.public_url(&key);
    assert!(page.text.contains(&format!(r#"<meta property="og:image" content="{url}">"#)), "{}", page.text);
    assert!(page.text.contains(r#"<meta property="og:type" content="article">"#), "{}", page.text);
    assert!(page.text.contains(&format!(
        r#"<meta property="og:url" content="{}/blog/fish-and-chips">"#,
        p.config.public_base_url.trim_end_matches('/')
    )));
    assert!(
        page.text.contains("<title>Fish &#38; &#60;Chips&#62; &#34;quoted&#34;"),
        "the title is escaped: {}",
        page.text
    );
    assert!(!page.text.contains("<Chips>") && !page.text.contains("<b>tasty</b>"), "{}", page.text);
    assert!(page.text.contains("<p>Hello</p>"), "the sanitised content is printed as it is");
    assert_eq!(get_post(&p, None, "fish-and-chips").await.ok()["og_image_url"], url.as_str());
}

#[tokio::test]
async fn only_a_new_title_or_category_of_a_published_post_asks_for_a_new_image() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let (_, post) = category_and_post(&p, &admin, "go", "goroutines", true).await;
    let post_id = post["id"].as_i64().unwrap();
    assert_eq!(post_published_events(&p, 1, 10).await.len(), 1, "created published");
    update_post(&p, Some(&admin.token), post_id, json!({ "excerpt": "Only the excerpt", "featured": true })).await.ok();
    assert!(post_published_events(&p, 1, 2).await.is_empty(), "an excerpt is not on the card");
    update_post(&p, Some(&admin.token), post_id, json!({ "title": "Goroutines, again" })).await.ok();
    let events = post_published_events(&p, 1, 10).await;
    assert_eq!(events.len(), 1, "a new title asks for a new card");
    let rust = create_category(&p, Some(&admin.token), "rust", "Rust").await.ok()["id"].as_i64().unwrap();
    update_post(&p, Some(&admin.token), post_id, json!({ "category_id": rust })).await.ok();
    assert_eq!(post_published_events(&p, 1, 10).await.len(), 1, "a new category asks for a new card");
    update_post(&p, Some(&admin.token), post_id, json!({ "published": false })).await.ok();
    update_post(&p, Some(&admin.token), post_id, json!({ "title": "Hidden rename" })).await.ok();
    assert!(post_published_events(&p, 1, 2).await.is_empty(), "a draft's title is on no card");
    // An event for an unpublished post is done without drawing anything.
    assert_eq!(og::generate(&p, &events[0]).await.unwrap(), og::OgOutcome::NotDue);
}

#[tokio::test]
async fn the_sweep_publishes_again_an_image_request_left_unserved() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let (_, post) = category_and_post(&p, &admin, "go", "lost-event", true).await;
    let post_id = post["id"].as_i64().unwrap();
    assert_eq!(post_published_events(&p, 1, 10).await.len(), 1);
    assert_eq!(og::sweep_og_requests(&p).await.unwrap().published, 0, "a fresh request is left to its own event");
    // As if the event had been lost: the request is over a minute old and unserved.
    let conn = p.db.connection().await.unwrap();
    conn.execute("UPDATE posts SET og_requested_at = now() - interval '2 minutes' WHERE id = $1", &[&post_id])
        .await
        .unwrap();
    assert_eq!(og::sweep_og_requests(&p).await.unwrap().published, 1);
    let events = post_published_events(&p, 1, 10).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["post_id"], post_id);
    assert_eq!(og::sweep_og_requests(&p).await.unwrap().published, 0, "the sweep restarted the grace");
    assert!(matches!(og::generate(&p, &events[0]).await.unwrap(), og::OgOutcome::Stored(_)));
    assert_eq!(count(&p, "SELECT count(*) FROM posts WHERE og_requested_at IS NOT NULL").await, 0);
}

#[tokio::test]
async fn post_html_is_sanitised_before_it_is_stored() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let category_id = create_category(&p, Some(&admin.token), "web", "Web").await.ok()["id"].as_i64().unwrap();
    let dirty = r#"<p>Safe <em>text</em></p><script>alert('x')</script><img src="/a.png" onerror="alert(1)"><a href="javascript:alert(2)">link</a>"#;
    let post = create_post(
        &p,
        Some(&admin.token),
        json!({ "slug": "xss", "title": "XSS", "content_html": dirty, "category_id": category_id }),
    )
    .await
    .ok();
    let stored: String =
        p.db.connection()
            .await
            .unwrap()
            .query_one("SELECT content_html FROM posts WHERE id = $1", &[&post["id"].as_i64().unwrap()])
            .await
            .unwrap()
            .get(0);
    for gone in ["<script", "alert", "onerror", "javascript:"] {
        assert!(!stored.contains(gone), "{gone} was stored: {stored}");
    }
    assert!(stored.contains("<p>Safe <em>text</em></p>") && stored.contains(r#"<img src="/a.png">"#), "{stored}");
}

#[tokio::test]
async fn a_view_counts_once_per_reader_per_day() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    category_and_post(&p, &admin, "go", "viewed", true).await;
    let reader = player(&p, 7001, "Reader").await;
    let view = |token: Option<String>, ip: &'static str| {
        let p = &p;
        async move {
            post("/view")
                .param("slug", "viewed")
                .maybe_bearer(token.as_deref())
                .from_ip(ip)
                .send(p, reader::count_view)
                .await
                .ok()
        }
    };
    let first = view(None, "203.0.113.1").await;
    assert_eq!((first["views"].as_i64(), first["counted"].as_bool()), (Some(1), Some(true)));
    let again = view(None, "203.0.113.1").await;
    assert_eq!(
        (again["views"].as_i64(), again["counted"].as_bool()),
        (Some(1), Some(false)),
        "the same address counts once"
    );
    assert_eq!(view(None, "203.0.113.2").await["views"], 2, "another address is another reader");
    assert_eq!(
        view(Some(reader.token.clone()), "203.0.113.1").await["views"],
        3,
        "a signed-in reader is counted by user"
    );
    assert_eq!(view(Some(reader.token.clone()), "198.51.100.9").await["views"], 3, "wherever the user reads from");
    assert_eq!(get_post(&p, None, "viewed").await.ok()["views"], 3);
    // The address itself is never kept: the gate's key holds its hash.
    let mut redis = p.cache.raw().await.expect("Redis");
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}blog_view:*", p.cache.prefix())).query_async(&mut redis).await.unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains("203.0.113")), "{keys:?}");
    let missing = post("/view").param("slug", "no-such-post").from_ip("203.0.113.1").send(&p, reader::count_view).await;
    missing.expect_error(404, "not_found");
}

#[tokio::test]
async fn likes_are_idempotent_and_counted_once_per_reader() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    category_and_post(&p, &admin, "go", "liked", true).await;
    let (ada, bob) = (player(&p, 7101, "Ada").await, player(&p, 7102, "Bob").await);
    like(&p, None, "liked", true).await.expect_error(401, "unauthorized");
    let (a, b) = tokio::join!(like(&p, Some(&ada.token), "liked", true), like(&p, Some(&ada.token), "liked", true));
    assert_eq!((a.status, b.status), (200, 200));
    let state = like(&p, Some(&ada.token), "liked", true).await.ok();
    assert_eq!((state["likes"].as_i64(), state["liked"].as_bool()), (Some(1), Some(true)), "a double click likes once");
    assert_eq!(like(&p, Some(&bob.token), "liked", true).await.ok()["likes"], 2);
    assert_eq!(get_post(&p, Some(&ada.token), "liked").await.ok()["liked"], true);
    assert!(get_post(&p, None, "liked").await.ok().get("liked").is_none(), "anonymous readers get no `liked`");
    let unliked = like(&p, Some(&ada.token), "liked", false).await.ok();
    assert_eq!((unliked["likes"].as_i64(), unliked["liked"].as_bool()), (Some(1), Some(false)));
    assert_eq!(like(&p, Some(&ada.token), "liked", false).await.ok()["likes"], 1, "unliking twice unlikes once");
    assert_eq!(
        count(&p, "SELECT likes FROM posts WHERE slug = 'liked'").await,
        count(&p, "SELECT count(*) FROM post_likes").await
    );
    like(&p, Some(&ada.token), "no-such-post", true).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn readers_list_published_posts_by_category_search_and_page_and_never_see_drafts() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    category_and_post(&p, &admin, "rust", "ownership", true).await;
    category_and_post(&p, &admin, "rust", "lifetimes", true).await;
    category_and_post(&p, &admin, "rust", "secret-draft", false).await;
    let (_, go) = category_and_post(&p, &admin, "go", "channels", true).await;
    update_post(
        &p,
        Some(&admin.token),
        go["id"].as_i64().unwrap(),
        json!({ "content_html": "<p>Channels carry <em>Borrowed</em> values.</p>" }),
    )
    .await
    .ok();

    let all = list(&p, &[]).await.ok();
    let slugs = |body: &Json| {
        body["posts"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(all["total"], 3);
    assert_eq!(slugs(&all), ["channels", "lifetimes", "ownership"], "newest first, drafts never");
    assert_eq!(slugs(&list(&p, &[("category", "rust")]).await.ok()), ["lifetimes", "ownership"]);
    assert_eq!(list(&p, &[("category", "nothing-here")]).await.ok()["total"], 0);
    // Search reads the text without its markup, in any case; the draft's text is never found.
    assert_eq!(slugs(&list(&p, &[("search", "borrowed values")]).await.ok()), ["channels"]);
    assert_eq!(slugs(&list(&p, &[("search", "POST LIFE")]).await.ok()), ["lifetimes"], "titles are searched too");
    assert_eq!(list(&p, &[("search", "secret")]).await.ok()["total"], 0);
    assert_eq!(list(&p, &[("search", "<em>")]).await.ok()["total"], 0, "markup is not text");
    let second = list(&p, &[("per_page", "2"), ("page", "2")]).await.ok();
    assert_eq!((second["total"].as_i64(), slugs(&second)), (Some(3), vec!["ownership".to_string()]));
    assert_eq!(list(&p, &[("page", "9")]).await.ok()["total"], 3, "past the end: no posts, the same total");
    let bad = list(&p, &[("per_page", "0"), ("category", "Not A Slug"), ("search", "x".repeat(101).as_str())]).await;
    bad.expect_error(400, "invalid_query");
    for field in ["per_page", "category", "search"] {
        assert!(bad.body["error"]["fields"][field].is_string(), "{field}: {}", bad.text);
    }

    get_post(&p, None, "secret-draft").await.expect_error(404, "not_found");
    let draft_page = post_page(&p, "secret-draft").await;
    assert_eq!((draft_page.status, draft_page.content_type.as_str()), (404, "text/html; charset=utf-8"));
    assert!(draft_page.text.contains("<title>Post not found"), "{}", draft_page.text);
    like(&p, Some(&admin.token), "secret-draft", true).await.expect_error(404, "not_found");

    let categories = get("/api/v1/blog/categories").send(&p, reader::list_categories).await.ok();
    assert_eq!(
        categories["categories"].as_array().unwrap().iter().map(|c| c["slug"].as_str().unwrap()).collect::<Vec<_>>(),
        ["go", "rust"]
    );

    // Deleting is seen at once by every cached list and post.
    let ownership = get_post(&p, None, "ownership").await.ok();
    let deleted = delete("/x")
        .param("post_id", ownership["id"].as_i64().unwrap())
        .bearer(&admin.token)
        .send(&p, admin::delete_post)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(slugs(&list(&p, &[]).await.ok()), ["channels", "lifetimes"]);
    get_post(&p, None, "ownership").await.expect_error(404, "not_found");
    assert_eq!(post_page(&p, "ownership").await.status, 404);
}

#[tokio::test]
async fn only_admins_write_the_blog() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let player = player(&p, 7201, "Player").await;
    let (category_id, post) = category_and_post(&p, &admin, "go", "kept", true).await;
    let post_id = post["id"].as_i64().unwrap();
    for (token, status, code) in [(None, 401, "unauthorized"), (Some(player.token.as_str()), 403, "forbidden")] {
        create_category(&p, token, "other", "Other").await.expect_error(status, code);
        create_post(&p, token, post_body("new-post", category_id, true)).await.expect_error(status, code);
        update_post(&p, token, post_id, json!({ "title": "Taken over" })).await.expect_error(status, code);
        delete("/x")
            .param("post_id", post_id)
            .maybe_bearer(token)
            .send(&p, admin::delete_post)
            .await
            .expect_error(status, code);
    }
    assert_eq!(count(&p, "SELECT count(*) FROM blog_categories").await, 1);
    assert_eq!(
        count(&p, "SELECT count(*) FROM posts WHERE title = 'Post kept'").await,
        1,
        "the post is untouched and still there"
    );
}

#[tokio::test]
async fn bad_input_is_a_400_naming_every_field_and_writes_nothing() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let player = player(&p, 7301, "Player").await;
    let category_id = create_category(&p, Some(&admin.token), "go", "Go").await.ok()["id"].as_i64().unwrap();
    let bad = create_post(
        &p,
        Some(&admin.token),
        json!({ "slug": "Bad Slug", "title": "", "category_id": "one", "featured": "yes", "extra": 1 }),
    )
    .await;
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["category_id", "content_html", "extra", "featured", "slug", "title"]);

    let ready = upload(&p, admin.id, "post_image", "ready").await;
    let someone_elses = upload(&p, player.id, "post_image", "ready").await;
    let pending = upload(&p, admin.id, "post_image", "pending").await;
    let avatar = upload(&p, admin.id, "avatar", "ready").await;
    let mut body = post_body("with-images", 999_999, true);
    body["images"] = json!([
        { "upload_id": ready, "main": true, "alt": "fine" },
        { "upload_id": someone_elses },
        { "upload_id": pending },
        { "upload_id": avatar },
        { "upload_id": Uuid::new_v4() },
    ]);
    let refused = create_post(&p, Some(&admin.token), body.clone()).await;
    let mut fields = refused.fields();
    fields.sort();
    assert_eq!(
        fields,
        ["category_id", "images[1].upload_id", "images[2].upload_id", "images[3].upload_id", "images[4].upload_id"],
        "{}",
        refused.text
    );
    assert_eq!(count(&p, "SELECT count(*) FROM posts").await, 0, "nothing was written");
    assert!(post_published_events(&p, 1, 2).await.is_empty(), "and nothing was published");

    body["category_id"] = json!(category_id);
    body["images"] = json!([{ "upload_id": ready, "main": true, "alt": "A gopher" }]);
    let created = create_post(&p, Some(&admin.token), body).await.ok();
    assert_eq!(created["images"][0]["url"], p.storage.public_url(&format!("media/post_image/{ready}.jpg")));
    let post_id = created["id"].as_i64().unwrap();

    // An edit is all or nothing too: a good title next to a bad image changes nothing.
    let refused = update_post(
        &p,
        Some(&admin.token),
        post_id,
        json!({ "title": "New title", "images": [{ "upload_id": pending }] }),
    )
    .await;
    assert_eq!(refused.fields(), ["images[0].upload_id"]);
    assert_eq!(get_post(&p, None, "with-images").await.ok()["title"], "Post with-images");
    update_post(&p, Some(&admin.token), post_id, json!({})).await.expect_error(400, "validation_failed");
    update_post(&p, Some(&admin.token), 999_999, json!({ "title": "x" })).await.expect_error(404, "not_found");
    let not_json = patch("/x").param("post_id", post_id).bearer(&admin.token).send(&p, admin::update_post).await;
    not_json.expect_error(400, "invalid_json");
    patch("/x")
        .param("post_id", "abc")
        .bearer(&admin.token)
        .json(&json!({}))
        .send(&p, admin::update_post)
        .await
        .expect_error(400, "invalid_path");
    // The page of a post with a main image but no generated image yet shares the main image.
    let page = post_page(&p, "with-images").await;
    assert!(
        page.text.contains(&format!(
            r#"<meta property="og:image" content="{}">"#,
            p.storage.public_url(&format!("media/post_image/{ready}.jpg"))
        )),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn a_taken_slug_is_a_409_and_changes_nothing() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let (category_id, first) = category_and_post(&p, &admin, "go", "first", false).await;
    create_category(&p, Some(&admin.token), "go", "Go again").await.expect_error(409, "conflict");
    create_post(&p, Some(&admin.token), post_body("first", category_id, false)).await.expect_error(409, "conflict");
    let second = create_post(&p, Some(&admin.token), post_body("second", category_id, false)).await.ok();
    let renamed = update_post(
        &p,
        Some(&admin.token),
        second["id"].as_i64().unwrap(),
        json!({ "slug": "first", "title": "Renamed" }),
    )
    .await;
    renamed.expect_error(409, "conflict");
    assert_eq!(renamed.body["error"]["fields"]["slug"], "is taken");
    assert_eq!(count(&p, "SELECT count(*) FROM posts WHERE title = 'Renamed'").await, 0);
    assert_eq!(count(&p, "SELECT count(*) FROM blog_categories").await, 1);
    assert_eq!(first["slug"], "first");
}
