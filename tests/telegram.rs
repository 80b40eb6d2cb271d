//! The Telegram bot through the local cloud (`infra/cloud start`, which `infra/test` runs), with a recording
//! stand-in for the Bot API on loopback (`support::bot_api`): real `Update` JSON through the webhook route, the
//! import and publishing jobs, and channel members' poll answers counted as their attempts. The local cloud has
//! one database, so each test uses its own Telegram ids, chat ids and topic names.
//!
//! The tests at the end (`in_process`) call the webhook route and the webhook delivery job in process instead, on
//! a platform of their own (its database, its job queues, its own Bot API stand-in on a free port): redeliveries
//! after a failed reply, and where outbound webhook deliveries may go.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::bot_api::{BotApi, Call, Refusal};
use support::cloud::{call, database, eventually, fresh_telegram_id, gateway, invoke, sign_in};

const WEBHOOK: &str = "/api/v1/telegram/webhook";

fn secret() -> String {
    support::local_settings()["TELEGRAM_WEBHOOK_SECRET"].clone()
}

/// An `update_id` no other test run uses (Telegram's are 32-bit).
fn fresh_update_id() -> u64 {
    1_000_000_000 + (uuid::Uuid::new_v4().as_u128() % 3_000_000_000) as u64
}

/// A channel's chat id (negative, as Telegram's are).
fn fresh_chat_id() -> i64 {
    -1_000_000_000_000 - (uuid::Uuid::new_v4().as_u128() % 1_000_000_000) as i64
}

/// Delivers one update to the webhook as Telegram does.
async fn deliver(update: &Value) -> (StatusCode, Value) {
    deliver_with(update, Some(&secret())).await
}

async fn deliver_with(update: &Value, secret: Option<&str>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(format!("{}{WEBHOOK}", gateway())).json(update);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    let response = request.send().await.expect("is the local cloud up? (infra/cloud start)");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn user(id: i64, first_name: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": first_name, "language_code": "en"})
}

/// A private message from `from` to the bot, as Telegram sends it.
fn message(update_id: u64, from: i64, text: &str) -> Value {
    let command_length = text.split_whitespace().next().filter(|w| w.starts_with('/')).map_or(0, str::len);
    let mut message = json!({"message_id": 10, "date": 1795662000, "chat": {"id": from, "type": "private", "first_name": "Tester"},
        "from": user(from, "Tester"), "text": text});
    if command_length > 0 {
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": command_length}]);
    }
    json!({"update_id": update_id, "message": message})
}

fn handled(body: &Value) -> &str {
    body["handled"].as_str().unwrap_or_default()
}

/// Waits until the stand-in has at least `n` calls to `chat_id`, and answers them.
async fn calls_to(bot: &BotApi, chat_id: i64, n: usize) -> Vec<Call> {
    let arrived = eventually(Duration::from_secs(30), || async { bot.calls_to(chat_id).len() >= n }).await;
    assert!(arrived, "expected {n} call(s) to chat {chat_id}, got {:?}", bot.calls_to(chat_id));
    bot.calls_to(chat_id)
}

/// A Telegram user who is an administrator in the database (not one of `ADMIN_TELEGRAM_IDS`).
async fn fresh_admin() -> i64 {
    let telegram_id = fresh_telegram_id();
    let db = database().await;
    db.execute(
        "INSERT INTO users (telegram_id, first_name, language, is_admin) VALUES ($1, 'Admin', 'en', true)",
        &[&telegram_id],
    )
    .await
    .unwrap();
    telegram_id
}

#[tokio::test]
async fn an_update_without_the_secret_is_refused_and_not_read() {
    let _bot = BotApi::get();
    let update = message(fresh_update_id(), fresh_telegram_id(), "/start");
    for secret in [None, Some("wrong-secret"), Some("")] {
        let (status, body) = deliver_with(&update, secret).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{secret:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    }
    let (status, body) = deliver_with(&json!({"message": {}}), Some(&secret())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("validation_failed")),
        "{body}"
    );
    // Not read: the refused deliveries recorded nothing, so the update with the secret is handled as new.
    let (status, body) = deliver(&update).await;
    assert_eq!((status, body["duplicate"].as_bool(), handled(&body)), (StatusCode::OK, Some(false), "start"), "{body}");
}

#[tokio::test]
async fn start_registers_the_user_and_answers_with_the_mini_app_button_once_per_update() {
    let bot = BotApi::get();
    let telegram_id = fresh_telegram_id();
    let update = message(fresh_update_id(), telegram_id, "/start topic_7");
    let (status, body) = deliver(&update).await;
    assert_eq!((status, handled(&body)), (StatusCode::OK, "start"), "{body}");
    let (status, again) = deliver(&update).await;
    assert_eq!((status, again["duplicate"].as_bool()), (StatusCode::OK, Some(true)), "{again}");

    let calls = calls_to(&bot, telegram_id, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bot.calls_to(telegram_id).len(), 1, "a second delivery sent nothing more");
    assert_eq!(calls[0].method, "sendMessage");
    let button = &calls[0].params["reply_markup"]["inline_keyboard"][0][0];
    let url = button["web_app"]["url"].as_str().unwrap();
    assert!(url.ends_with("/app/?startapp=topic_7"), "{url}");

    let db = database().await;
    let users: i64 =
        db.query_one("SELECT count(*) FROM users WHERE telegram_id = $1", &[&telegram_id]).await.unwrap().get(0);
    assert_eq!(users, 1);
}

#[tokio::test]
async fn help_support_membership_and_unknown_updates_each_do_their_one_thing() {
    let bot = BotApi::get();
    let telegram_id = fresh_telegram_id();
    let (_, body) = deliver(&message(fresh_update_id(), telegram_id, "/help")).await;
    assert_eq!(handled(&body), "help", "{body}");
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let (_, body) =
        deliver(&message(fresh_update_id(), telegram_id, &format!("support The timer is wrong {marker}"))).await;
    assert_eq!(handled(&body), "support_stored", "{body}");
    let (_, body) = deliver(&message(fresh_update_id(), telegram_id, "support")).await;
    assert_eq!(handled(&body), "support_refused", "{body}");
    let replies = calls_to(&bot, telegram_id, 3).await;
    assert!(replies.iter().all(|c| c.method == "sendMessage"));

    let db = database().await;
    let stored: i64 = db
        .query_one(
            "SELECT count(*) FROM feedback f JOIN users u ON u.id = f.user_id WHERE u.telegram_id = $1 AND f.message LIKE '%' || $2",
            &[&telegram_id, &marker],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);

    // Someone joins a channel, then leaves it.
    let channel = fresh_chat_id();
    for (status, subscribed) in [("member", true), ("left", false)] {
        let update = json!({"update_id": fresh_update_id(), "chat_member": {
            "chat": {"id": channel, "type": "channel", "title": "Python quizzes"}, "from": user(telegram_id, "Tester"), "date": 1795662000,
            "old_chat_member": {"status": "left", "user": user(telegram_id, "Tester")},
            "new_chat_member": {"status": status, "user": user(telegram_id, "Tester")}}});
        let (_, body) = deliver(&update).await;
        assert_eq!(handled(&body), "membership", "{body}");
        let row = db
            .query_one(
                "SELECT subscribed FROM telegram_channel_members WHERE chat_id = $1 AND telegram_id = $2",
                &[&channel, &telegram_id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, bool>(0), subscribed);
    }

    // Kinds the bot does not read: one the crate knows, and one newer than it.
    for update in [
        json!({"update_id": fresh_update_id(), "edited_message": message(0, telegram_id, "edited")["message"]}),
        json!({"update_id": fresh_update_id(), "some_future_update": {"anything": [1, 2, 3]}}),
    ] {
        let (status, body) = deliver(&update).await;
        assert_eq!((status, handled(&body)), (StatusCode::OK, "ignored"), "{body}");
    }
    assert_eq!(bot.calls_to(telegram_id).len(), 3, "ignored updates answer nothing");
}

#[tokio::test]
async fn a_document_from_someone_who_is_no_admin_is_not_imported() {
    let bot = BotApi::get();
    let telegram_id = fresh_telegram_id();
    let mut update = message(fresh_update_id(), telegram_id, "");
    update["message"]["text"] = Value::Null;
    update["message"]["document"] = json!({"file_id": "not-for-you", "file_unique_id": "x", "file_name": "bank.json", "mime_type": "application/json", "file_size": 10});
    let (_, body) = deliver(&update).await;
    assert_eq!(handled(&body), "import_refused", "{body}");
    // Refused for who sent it (a JSON file of a size the bot takes from an admin), and said so.
    let replies = calls_to(&bot, telegram_id, 1).await;
    assert_eq!(replies[0].params["text"], "Only administrators can import question banks.", "{replies:?}");
    assert!(bot.calls_of("getFile").iter().all(|c| c.params["file_id"] != "not-for-you"));
}

/// A task in three languages under a topic of its own, with Python code in the question.
fn bank(topic: &str) -> Value {
    let translation = |language: &str, question: &str| {
        json!({"language": language, "question": format!("{question}\n\n```python\nitems = [3, 1, 2]\nitems.sort()\nprint(items[0])\n```"),
               "answers": ["3", "1", "2", "[1, 2, 3]"], "correct_answer": "1", "explanation": "sort() sorts in place, smallest first."})
    };
    json!({"tasks": [{"topic": topic, "subtopic": "Lists", "difficulty": "medium", "translation_group_id": format!("{topic}-1"),
        "translations": [translation("en", "What does this print?"), translation("ru", "Что выведет этот код?"), translation("es", "¿Qué imprime?")]}]})
}

#[tokio::test]
async fn an_admin_imports_by_document_publishes_to_three_channels_and_a_poll_answer_counts() {
    let bot = BotApi::get();
    let admin = fresh_admin().await;
    let topic = format!("Bot Python {}", uuid::Uuid::new_v4().simple());

    // 1. The admin sends the bank as a file; the import job downloads it and reports in the chat.
    let file_id = format!("bank-{}", uuid::Uuid::new_v4().simple());
    let bank = serde_json::to_vec(&bank(&topic)).unwrap();
    bot.add_file(&file_id, bank.clone());
    let mut update = message(fresh_update_id(), admin, "");
    update["message"]["text"] = Value::Null;
    update["message"]["document"] = json!({"file_id": file_id, "file_unique_id": "u1", "file_name": "python-bank.json", "mime_type": "application/json", "file_size": bank.len()});
    let (status, body) = deliver(&update).await;
    assert_eq!((status, handled(&body)), (StatusCode::OK, "import_queued"), "{body}");
    let chat = calls_to(&bot, admin, 2).await;
    assert!(chat[0].params["text"].as_str().unwrap().starts_with("Importing python-bank.json"), "{:?}", chat[0]);
    let report = chat[1].params["text"].as_str().unwrap();
    assert!(report.contains("1 created, 0 already there, 0 rejected"), "{report}");

    let db = database().await;
    let task_id: i64 = db
        .query_one("SELECT k.id FROM tasks k JOIN topics t ON t.id = k.topic_id WHERE t.name = $1", &[&topic])
        .await
        .unwrap()
        .get(0);
    let topic_id: i64 = db.query_one("SELECT id FROM topics WHERE name = $1", &[&topic]).await.unwrap().get(0);

    // 2. A channel per language, then the task published through the admin route; the Russian channel's poll
    //    first meets Telegram's rate limit.
    let session = sign_in(admin).await;
    let channels: Vec<(&str, i64)> = ["en", "ru", "es"].iter().map(|l| (*l, fresh_chat_id())).collect();
    for (language, chat_id) in &channels {
        let (status, body) = call(
            Method::PUT,
            "/api/v1/admin/telegram/channels",
            Some(&session),
            Some(json!({"topic_id": topic_id, "language": language, "chat_id": chat_id})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    bot.refuse_next("sendPoll", channels[1].1, Refusal::TooManyRequests { retry_after: 1 });
    let (status, plan) =
        call(Method::POST, "/api/v1/admin/telegram/publish", Some(&session), Some(json!({"task_id": task_id}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{plan}");
    assert_eq!(plan["queued"].as_array().unwrap().len(), 3, "{plan}");
    assert_eq!(plan["missing_channels"], json!([]), "{plan}");

    // 3. Exactly four messages per channel, in order, the Russian one too after waiting out the 429.
    for (_, chat_id) in &channels {
        calls_to(&bot, *chat_id, 4).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (language, chat_id) in &channels {
        let calls = bot.calls_to(*chat_id);
        let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(methods, ["sendPhoto", "sendMessage", "sendPoll", "sendMessage"], "{language}: {calls:?}");
        let poll = &calls[2].params;
        assert_eq!(poll["is_anonymous"], false, "{poll}");
        assert_eq!(poll["type"], "quiz", "{poll}");
        let options: Vec<&str> =
            poll["options"].as_array().unwrap().iter().map(|o| o["text"].as_str().unwrap()).collect();
        assert_eq!(options.len(), 5, "four options and \"I don't know\": {options:?}");
        let correct = poll["correct_option_ids"][0].as_u64().unwrap() as usize;
        assert_eq!(options[correct], "1", "{poll}");
        assert!(calls[1].params["text"].as_str().unwrap().contains(&topic));
        assert!(calls[3].params["reply_markup"]["inline_keyboard"][0][0]["url"].as_str().is_some());
    }
    let state: String = db
        .query_one("SELECT string_agg(DISTINCT state, ',') FROM telegram_publications WHERE task_id = $1", &[&task_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "published");

    // 4. The code image: a PNG of at least 1600×1000 whose code area is not one colour, stored once for the task.
    let photo_url = bot.calls_to(channels[0].1)[0].params["photo"].as_str().unwrap().to_string();
    let png = reqwest::get(&photo_url).await.unwrap().bytes().await.unwrap();
    let image = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
    assert!(image.width() >= 1600 && image.height() >= 1000, "{}x{}", image.width(), image.height());
    let first = *image.get_pixel(200, 250);
    assert!(
        (200..800).step_by(7).any(|x| (250..500).step_by(5).any(|y| *image.get_pixel(x, y) != first)),
        "the code area is blank"
    );

    // 5. A channel member answers the English poll with the right option: it counts as their attempt.
    let (en_chat, poll) = (channels[0].1, bot.calls_to(channels[0].1)[2].params.clone());
    let correct = poll["correct_option_ids"][0].as_u64().unwrap();
    let poll_id: String = db
        .query_one(
            "SELECT poll_id FROM telegram_publications WHERE task_id = $1 AND chat_id = $2",
            &[&task_id, &en_chat],
        )
        .await
        .unwrap()
        .get(0);
    let member = fresh_telegram_id();
    let answer = json!({"update_id": fresh_update_id(), "poll_answer": {"poll_id": poll_id, "user": user(member, "Member"),
        "option_ids": [correct], "option_persistent_ids": [correct.to_string()]}});
    let (status, body) = deliver(&answer).await;
    assert_eq!((status, handled(&body)), (StatusCode::OK, "answer_recorded"), "{body}");
    let (_, again) = deliver(&answer).await;
    assert_eq!(again["duplicate"], true);

    let member_session = sign_in(member).await;
    let (status, stats) = call(Method::GET, "/api/v1/me/stats", Some(&member_session), None).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        (stats["attempted"].as_i64(), stats["solved"].as_i64(), stats["rating"].as_i64()),
        (Some(1), Some(1), Some(25)),
        "{stats}"
    );
    // On the board: the one database holds every run's players, so the board of the players who chose this
    // test's own topic, which holds exactly the member.
    let topic_id: i64 =
        db.query_one("SELECT topic_id FROM tasks WHERE id = $1", &[&task_id]).await.unwrap().get("topic_id");
    let (status, me) =
        call(Method::PATCH, "/api/v1/me", Some(&member_session), Some(json!({"favourite_topic_ids": [topic_id]})))
            .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let (_, board) = call(Method::GET, &format!("/api/v1/leaderboard?topic={topic_id}"), None, None).await;
    assert_eq!(board["rows"].as_array().map(Vec::len), Some(1), "{board}");
    assert_eq!(
        (board["rows"][0]["user_id"].clone(), board["rows"][0]["rating"].clone()),
        (me["id"].clone(), json!(25))
    );
}

#[tokio::test]
async fn the_webhook_is_registered_with_the_secret() {
    let bot = BotApi::get();
    let answer = invoke(shared::functions::SET_TELEGRAM_WEBHOOK.name, json!({"action": "set"})).await;
    let settings = support::local_settings();
    assert_eq!(answer["result"]["url"], settings["TELEGRAM_WEBHOOK_URL"], "{answer}");
    let registered = bot.calls_of("setWebhook").pop().expect("setWebhook was called");
    assert_eq!(registered.params["secret_token"], settings["TELEGRAM_WEBHOOK_SECRET"]);
    let kinds: Vec<&str> =
        registered.params["allowed_updates"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for kind in ["message", "poll_answer", "chat_member"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
}

/// The signature a receiver computes: HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret.
fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn each_published_translation_reaches_every_webhook_once_signed_and_a_failing_one_is_retried_then_recorded() {
    let bot = BotApi::get();
    let admin = fresh_admin().await;
    let session = sign_in(admin).await;
    let (good, bad) = (support::receiver::Receiver::start(false), support::receiver::Receiver::start(true));
    let mut secrets = Vec::new();
    for receiver in [&good, &bad] {
        let (status, webhook) =
            call(Method::POST, "/api/v1/admin/webhooks", Some(&session), Some(json!({"url": receiver.url}))).await;
        assert_eq!(status, StatusCode::CREATED, "{webhook}");
        secrets.push((webhook["id"].as_str().unwrap().to_string(), webhook["secret"].as_str().unwrap().to_string()));
    }
    let (status, refused) = call(
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(&session),
        Some(json!({"url": "https://hooks.example.com/x"})),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("validation_failed")),
        "locally only loopback"
    );

    // One task in one language, published to its channel.
    let topic = format!("Hook Go {}", uuid::Uuid::new_v4().simple());
    let mut one = bank(&topic);
    one["tasks"][0]["translations"].as_array_mut().unwrap().truncate(1);
    let (status, report) = call(Method::POST, "/api/v1/admin/tasks/import", Some(&session), Some(one)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let task_id = report["tasks"][0]["task_id"].as_i64().unwrap();
    let db = database().await;
    let topic_id: i64 = db.query_one("SELECT id FROM topics WHERE name = $1", &[&topic]).await.unwrap().get(0);
    let chat_id = fresh_chat_id();
    let (status, _) = call(
        Method::PUT,
        "/api/v1/admin/telegram/channels",
        Some(&session),
        Some(json!({"topic_id": topic_id, "language": "en", "chat_id": chat_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, plan) =
        call(Method::POST, "/api/v1/admin/telegram/publish", Some(&session), Some(json!({"task_id": task_id}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{plan}");
    calls_to(&bot, chat_id, 4).await;

    // The working receiver gets the event once, signed with its secret.
    assert!(
        eventually(Duration::from_secs(30), || async { !good.for_task(task_id).is_empty() }).await,
        "the delivery arrived"
    );
    let delivered = good.for_task(task_id);
    let event: Value = serde_json::from_slice(&delivered[0].body).unwrap();
    assert_eq!(event["type"], "quiz_published", "{event}");
    assert_eq!(
        (event["data"]["language"].as_str(), event["data"]["chat_id"].as_i64()),
        (Some("en"), Some(chat_id)),
        "{event}"
    );
    let headers = &delivered[0].headers;
    assert_eq!(headers["x-quiz-event"], "quiz_published");
    assert_eq!(
        headers["x-quiz-signature"],
        expected_signature(&secrets[0].1, &headers["x-quiz-timestamp"], &delivered[0].body)
    );

    // The failing receiver is tried five times, with growing delays (1, 2, 4, 8 s locally), then recorded failed.
    let bad_id = uuid::Uuid::parse_str(&secrets[1].0).unwrap();
    let failed = eventually(Duration::from_secs(60), || async {
        db.query_opt(
            "SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1 AND payload -> 'data' ->> 'task_id' = $2 AND state = 'failed'",
            &[&bad_id, &task_id.to_string()],
        )
        .await
        .unwrap()
        .is_some()
    })
    .await;
    assert!(failed, "the failing delivery was recorded as failed");
    let row = db
        .query_one(
            "SELECT attempts, last_status FROM webhook_deliveries WHERE webhook_id = $1 AND payload -> 'data' ->> 'task_id' = $2",
            &[&bad_id, &task_id.to_string()],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, Option<i32>>(1)), (5, Some(500)));
    assert_eq!(bad.for_task(task_id).len(), 5);
    assert_eq!(good.for_task(task_id).len(), 1, "delivered once");
    let (_, listed) = call(Method::GET, "/api/v1/admin/webhooks", Some(&session), None).await;
    assert!(listed["webhooks"].as_array().unwrap().iter().all(|w| w.get("secret").is_none()), "{listed}");

    // The receivers go away with this test: stop deliveries to them.
    for (id, _) in &secrets {
        let (status, _) = call(Method::DELETE, &format!("/api/v1/admin/webhooks/{id}"), Some(&session), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// In process: redeliveries, and where outbound webhooks may go
// ---------------------------------------------------------------------------------------------------------------

/// A platform in process whose bot talks to a Bot API stand-in of its own, and whose Telegram and webhook job
/// queues are its own (so nothing reaches the local cloud's queues). Leaked: the webhook job wants `'static`.
struct InProcess {
    p: &'static support::TestPlatform,
    bot: BotApi,
    publish_queue: String,
    import_queue: String,
    webhook_queue: String,
}

async fn in_process(adjust: impl FnOnce(&mut std::collections::HashMap<String, String>)) -> InProcess {
    let bot = BotApi::start();
    let sqs = support::cloud::sqs().await;
    let unique = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let (publish_queue, _) = support::create_queue_pair(&sqs, &format!("test-{unique}-tg-publish")).await;
    let (import_queue, _) = support::create_queue_pair(&sqs, &format!("test-{unique}-tg-import")).await;
    let (webhook_queue, _) = support::create_queue_pair(&sqs, &format!("test-{unique}-webhooks")).await;
    let (base_url, publish, import, webhooks) =
        (bot.base_url.clone(), publish_queue.clone(), import_queue.clone(), webhook_queue.clone());
    let p = support::platform_with(move |s| {
        s.insert("TELEGRAM_API_BASE_URL".into(), base_url);
        s.insert("TELEGRAM_PUBLISH_QUEUE_URL".into(), publish);
        s.insert("TELEGRAM_IMPORT_QUEUE_URL".into(), import);
        s.insert("WEBHOOK_QUEUE_URL".into(), webhooks);
        adjust(s);
    })
    .await;
    InProcess { p: Box::leak(Box::new(p)), bot, publish_queue, import_queue, webhook_queue }
}

/// Delivers one update to the route in process, as Telegram does.
async fn deliver_in(p: &platform::Platform, update: &Value) -> support::calls::Reply {
    let mut call = support::calls::post(WEBHOOK).json(update);
    call.0.headers.insert("content-type", http::HeaderValue::from_static("application/json"));
    call.0.headers.insert(
        shared::telegram::webhook::SECRET_HEADER,
        http::HeaderValue::from_str(&p.config.telegram.webhook_secret).unwrap(),
    );
    call.send(p, shared::telegram::webhook::route).await
}

/// Delivers the same update `n` times, as Telegram does after each answer that is not a success: the statuses.
async fn redeliver(p: &platform::Platform, update: &Value, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(deliver_in(p, update).await.status);
    }
    statuses
}

async fn count(p: &platform::Platform, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> i64 {
    p.db.connection().await.unwrap().query_one(sql, params).await.unwrap().get(0)
}

#[tokio::test]
async fn in_process_a_nul_in_an_update_is_stored_as_a_replacement_character_not_refused() {
    let t = in_process(|_| {}).await;
    let telegram_id = fresh_telegram_id();
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let mut update = message(fresh_update_id(), telegram_id, &format!("support A\u{0}B {marker}"));
    update["message"]["from"]["first_name"] = json!("Ni\u{0}l");
    // Refused, Telegram would only deliver it again; PostgreSQL could not store it as it is.
    let answer = deliver_in(t.p, &update).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let conn = t.p.db.connection().await.unwrap();
    let stored: Vec<String> = conn
        .query("SELECT message FROM feedback WHERE message LIKE '%' || $1", &[&marker])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].contains("A\u{FFFD}B"), "the message is stored with U+FFFD in place of the NUL: {stored:?}");
}

#[tokio::test]
async fn in_process_a_support_message_is_stored_once_however_often_it_is_redelivered_after_its_reply_failed() {
    let t = in_process(|_| {}).await;
    let telegram_id = fresh_telegram_id();
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let update = message(fresh_update_id(), telegram_id, &format!("support The timer is wrong {marker}"));
    // The Bot API fails the first two replies; each failed answer makes Telegram deliver the update again.
    t.bot.refuse_next("sendMessage", telegram_id, Refusal::ServerError);
    t.bot.refuse_next("sendMessage", telegram_id, Refusal::ServerError);
    assert_eq!(redeliver(t.p, &update, 3).await, [503, 503, 200], "the reply is retried until it goes out");

    let stored = count(t.p, "SELECT count(*) FROM feedback WHERE message LIKE '%' || $1", &[&marker]).await;
    assert_eq!(stored, 1, "one support message, one feedback row");
    let replies = t.bot.calls_to(telegram_id);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].params["text"].as_str().unwrap().starts_with("Thank you!"), "{replies:?}");

    // Once the reply went out, a further delivery is a duplicate that sends nothing and stores nothing.
    let again = deliver_in(t.p, &update).await;
    assert_eq!((again.status, again.body["duplicate"].as_bool()), (200, Some(true)), "{}", again.text);
    assert_eq!(t.bot.calls_to(telegram_id).len(), 1);
    assert_eq!(count(t.p, "SELECT count(*) FROM feedback WHERE message LIKE '%' || $1", &[&marker]).await, 1);
}

#[tokio::test]
async fn in_process_an_admins_publish_is_planned_and_queued_once_however_often_it_is_redelivered_after_its_reply_failed()
 {
    let t = in_process(|_| {}).await;
    let admin = t.p.config.identity.admin_telegram_ids[0];
    let topic = format!("Redelivered {}", uuid::Uuid::new_v4().simple());
    shared::quiz::admin::import_bank(t.p, &serde_json::to_vec(&bank(&topic)).unwrap(), true)
        .await
        .expect("the bank imports");
    let (task_id, topic_id): (i64, i64) = {
        let conn = t.p.db.connection().await.unwrap();
        let row = conn
            .query_one(
                "SELECT k.id, k.topic_id FROM tasks k JOIN topics t ON t.id = k.topic_id WHERE t.name = $1",
                &[&topic],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    // Channels for two of the three translations.
    let (en, ru) = (fresh_chat_id(), fresh_chat_id());
    {
        let conn = t.p.db.connection().await.unwrap();
        for (language, chat_id) in [("en", en), ("ru", ru)] {
            conn.execute(
                "INSERT INTO telegram_channels (topic_id, language, chat_id) VALUES ($1, $2, $3)",
                &[&topic_id, &language, &chat_id],
            )
            .await
            .unwrap();
        }
    }
    let update = message(fresh_update_id(), admin, &format!("/publish {task_id}"));
    t.bot.refuse_next("sendMessage", admin, Refusal::ServerError);
    t.bot.refuse_next("sendMessage", admin, Refusal::ServerError);
    assert_eq!(redeliver(t.p, &update, 3).await, [503, 503, 200]);

    let publications = count(t.p, "SELECT count(*) FROM telegram_publications WHERE task_id = $1", &[&task_id]).await;
    assert_eq!(publications, 2, "one publication per translation with a channel, made once");
    let jobs = support::receive_within(&t.publish_queue, 3, 3).await;
    let mut queued: Vec<uuid::Uuid> =
        jobs.iter().map(|m| platform::jobs::JobEnvelope::parse(m.body().unwrap()).unwrap().id).collect();
    queued.sort();
    let mut recorded: Vec<uuid::Uuid> = {
        let conn = t.p.db.connection().await.unwrap();
        conn.query("SELECT id FROM telegram_publications WHERE task_id = $1", &[&task_id])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    recorded.sort();
    assert_eq!(queued, recorded, "one job per publication, enqueued once");
    let replies = t.bot.calls_to(admin);
    assert_eq!(replies.len(), 1, "{replies:?}");
    let text = replies[0].params["text"].as_str().unwrap();
    assert!(text.starts_with("Publishing 2 translation(s)") && text.contains("No channel for topic"), "{text}");
}

#[tokio::test]
async fn in_process_an_admins_document_is_queued_for_import_once_however_often_it_is_redelivered_after_its_reply_failed()
 {
    let t = in_process(|_| {}).await;
    let admin = t.p.config.identity.admin_telegram_ids[0];
    let mut update = message(fresh_update_id(), admin, "");
    update["message"]["text"] = Value::Null;
    update["message"]["document"] = json!({"file_id": "bank-once", "file_unique_id": "u1", "file_name": "bank.json", "mime_type": "application/json", "file_size": 100});
    t.bot.refuse_next("sendMessage", admin, Refusal::ServerError);
    t.bot.refuse_next("sendMessage", admin, Refusal::ServerError);
    assert_eq!(redeliver(t.p, &update, 3).await, [503, 503, 200]);
    let jobs = support::receive_within(&t.import_queue, 2, 3).await;
    assert_eq!(jobs.len(), 1, "the import is enqueued once, not once per delivery");
    let replies = t.bot.calls_to(admin);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].params["text"].as_str().unwrap().starts_with("Importing bank.json"), "{replies:?}");
}

#[tokio::test]
async fn in_process_a_reply_telegram_refuses_for_good_is_not_retried_and_the_effect_stays_done() {
    let t = in_process(|_| {}).await;
    let telegram_id = fresh_telegram_id();
    let update = message(fresh_update_id(), telegram_id, "support The bot blocked me later");
    // A 429 is worth retrying: the answer is 503, and the redelivery sends the reply.
    t.bot.refuse_next("sendMessage", telegram_id, Refusal::TooManyRequests { retry_after: 1 });
    assert_eq!(redeliver(t.p, &update, 2).await, [503, 200]);
    assert_eq!(t.bot.calls_to(telegram_id).len(), 1);
    // A refusal (the user blocked the bot) is not: the webhook answers 200 and Telegram stops delivering.
    let blocked = fresh_telegram_id();
    let update = message(fresh_update_id(), blocked, "/help");
    t.bot.refuse_next("sendMessage", blocked, Refusal::Forbidden);
    let first = deliver_in(t.p, &update).await;
    assert_eq!((first.status, first.body["handled"].as_str()), (200, Some("help")), "{}", first.text);
    assert_eq!(redeliver(t.p, &update, 1).await, [200]);
    assert!(t.bot.calls_to(blocked).is_empty(), "never sent again");
    assert_eq!(count(t.p, "SELECT count(*) FROM feedback", &[]).await, 1);
}

/// An admin's session on a platform in process.
async fn admin_token(p: &platform::Platform) -> String {
    support::calls::admin_user(p).await.token
}

async fn register(p: &platform::Platform, token: &str, url: &str) -> support::calls::Reply {
    support::calls::post("/api/v1/admin/webhooks")
        .bearer(token)
        .json(&json!({ "url": url }))
        .send(p, shared::webhooks::register)
        .await
}

#[tokio::test]
async fn in_process_deployed_registration_refuses_hosts_that_are_not_public_naming_url() {
    let t = in_process(|s| {
        s.insert("WEBHOOK_LOOPBACK_ONLY".into(), "false".into());
    })
    .await;
    let token = admin_token(t.p).await;
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.1/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://LOCALHOST/hook",
        "https://localhost./hook",
        "https://0.0.0.0/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "http://hooks.example.com/hook",
    ] {
        let reply = register(t.p, &token, url).await;
        assert_eq!(reply.fields(), ["url"], "{url}: {}", reply.text);
    }
    // No lookup at registration: a public-looking name is taken (nothing is sent), stored as parsed, so the same
    // URL spelled otherwise is the same URL.
    let created = register(t.p, &token, "https://Hooks.Example.com/quiz").await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["url"], "https://hooks.example.com/quiz");
    register(t.p, &token, "HTTPS://HOOKS.EXAMPLE.COM/quiz").await.expect_error(409, "conflict");
}

/// Runs the webhook delivery job on one `quiz.published` event of `task_id`, as an EventBridge rule delivers it.
async fn deliver_event(p: &'static platform::Platform, task_id: i64) {
    let id = uuid::Uuid::new_v4();
    let detail = shared::webhooks::QuizPublished {
        publication_id: id,
        task_id,
        language: "en".into(),
        chat_id: -100,
        poll_id: Some("poll".into()),
        poll_message_id: Some(7),
        published_at: chrono::Utc::now(),
        topic: "Python".into(),
        difficulty: "easy".into(),
    };
    let mut detail = serde_json::to_value(&detail).unwrap();
    detail["id"] = json!(id);
    detail["occurred_at"] = json!(chrono::Utc::now());
    let rule_delivery = json!({ "detail-type": "quiz.published", "source": "quiz", "detail": detail });
    let job = platform::jobs::JobEnvelope::parse(&rule_delivery.to_string()).unwrap();
    shared::webhooks::job(p, job).await.expect("the delivery job ran");
}

async fn webhook_row(p: &platform::Platform, url: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    let conn = p.db.connection().await.unwrap();
    conn.execute("INSERT INTO outbound_webhooks (id, url, secret) VALUES ($1, $2, 'secret')", &[&id, &url])
        .await
        .unwrap();
    id
}

async fn delivery_of(p: &platform::Platform, webhook: uuid::Uuid) -> (String, i32, Option<String>) {
    let conn = p.db.connection().await.unwrap();
    let row = conn
        .query_one("SELECT state, attempts, last_error FROM webhook_deliveries WHERE webhook_id = $1", &[&webhook])
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn in_process_a_delivery_resolves_the_name_and_goes_to_the_checked_loopback_address_locally() {
    let t = in_process(|_| {}).await;
    assert!(t.p.config.webhooks.loopback_only, "infra/local.env allows loopback receivers only");
    let token = admin_token(t.p).await;
    let receiver = support::receiver::Receiver::start(false);
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let created = register(t.p, &token, &by_name).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let webhook = uuid::Uuid::parse_str(created.body["id"].as_str().unwrap()).unwrap();
    deliver_event(&t.p.platform, 41).await;
    let received = receiver.for_task(41);
    assert_eq!(received.len(), 1, "delivered once, to the address `localhost` resolved to");
    assert!(
        received[0].headers["host"].starts_with("localhost:"),
        "the name stays the Host: {:?}",
        received[0].headers
    );
    assert_eq!(delivery_of(t.p, webhook).await.0, "delivered");
}

#[tokio::test]
async fn in_process_deployed_a_delivery_to_a_url_the_rule_now_refuses_fails_at_once_and_nothing_connects() {
    // Which addresses a name resolves to is checked at every delivery too; that check is tested on `localhost`
    // in shared's webhooks tests (no name that only this machine resolves to loopback passes the name rule).
    let t = in_process(|s| {
        s.insert("WEBHOOK_LOOPBACK_ONLY".into(), "false".into());
    })
    .await;
    let receiver = support::receiver::Receiver::start(false);
    let port = receiver.url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_string();
    // Registered under an older rule, or written to the table by hand: a local-only name, a literal loopback
    // address in one of its spellings, and plain http.
    let webhooks = [
        (webhook_row(t.p, &format!("https://localhost:{port}/hook")).await, "public host name"),
        (webhook_row(t.p, &format!("https://2130706433:{port}/hook")).await, "public address"),
        (webhook_row(t.p, &format!("http://127.0.0.1:{port}/hook")).await, "https"),
    ];
    deliver_event(&t.p.platform, 42).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.for_task(42).is_empty(), "nothing reached the loopback receiver");
    for (webhook, why) in webhooks {
        let (state, attempts, error) = delivery_of(t.p, webhook).await;
        assert_eq!((state.as_str(), attempts), ("failed", 1), "a URL the rule refuses fails at once: {error:?}");
        assert!(error.as_deref().is_some_and(|e| e.starts_with("refused") && e.contains(why)), "{why}: {error:?}");
    }
    assert!(support::receive_within(&t.webhook_queue, 1, 2).await.is_empty(), "no retry is queued");
}
