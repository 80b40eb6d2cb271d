//! The quiz rules (DOMAIN §1–§3, §9) against the real services: sign-in, sessions, import, the feed, answering,
//! statistics, the leaderboard, Redis going away, and bad input. Handlers are called in-process with
//! `ApiRequest`s, each test on its own fresh platform (database, key prefix, queues, bucket).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use platform::Platform;
use serde_json::{Value as Json, json};
use shared::identity::telegram::{sign_init_data, sign_login_widget};
use shared::quiz::{admin, answers, catalogue, leaderboard, stats};
use shared::{identity, users};
use support::calls::{
    Reply, User, admin_user, bot_token, get, mini_app_sign_in, patch, player, post, signed_in, telegram,
};
use support::{TestPlatform, platform, platform_with};

async fn register(p: &Platform, email: &str, password: &str) -> Reply {
    post("/api/v1/auth/register")
        .json(&json!({ "email": email, "password": password, "first_name": "Ada" }))
        .send(p, identity::register)
        .await
}

async fn login(p: &Platform, email: &str, password: &str) -> Reply {
    post("/api/v1/auth/login").json(&json!({ "email": email, "password": password })).send(p, identity::sign_in).await
}

async fn login_from(p: &Platform, ip: &str, email: &str, password: &str) -> Reply {
    post("/api/v1/auth/login")
        .from_ip(ip)
        .json(&json!({ "email": email, "password": password }))
        .send(p, identity::sign_in)
        .await
}

/// A new e-mail account, signed in: registration answers 202 without a session, so the client logs in.
async fn account(p: &Platform, email: &str, password: &str) -> User {
    let registered = register(p, email, password).await;
    assert_eq!(registered.status, 202, "{}", registered.text);
    signed_in(login(p, email, password).await)
}

async fn me(p: &Platform, token: &str) -> Reply {
    get("/api/v1/me").bearer(token).send(p, users::me::get_me).await
}

/// PATCH /me, failing (not hanging) when it does not answer: a deadlocked handler must fail the test, not CI.
async fn patch_me(p: &Platform, token: &str, changes: &Json) -> Reply {
    let call = patch("/api/v1/me").bearer(token).json(changes).send(p, users::me::update_me);
    tokio::time::timeout(Duration::from_secs(15), call)
        .await
        .unwrap_or_else(|_| panic!("PATCH /me {changes} did not answer within 15 s"))
}

/// Sets profile columns directly, for tests whose subject is not PATCH /me itself.
async fn set_profile_in_db(p: &Platform, user_id: i64, assignments: &str, favourite_topics: &[i64]) {
    let conn = p.db.connection().await.unwrap();
    if !assignments.is_empty() {
        conn.execute(&format!("UPDATE users SET {assignments} WHERE id = $1"), &[&user_id]).await.unwrap();
    }
    for topic in favourite_topics {
        conn.execute("INSERT INTO user_favourite_topics (user_id, topic_id) VALUES ($1, $2)", &[&user_id, topic])
            .await
            .unwrap();
    }
    users::invalidate(p, user_id).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------------------------------------------

fn explanation_of(question: &str) -> String {
    format!("Explanation of «{question}»")
}

/// One task in the earlier system's format: three wrong options, the correct answer ("delta") given apart.
fn task_json(topic: &str, subtopic: &str, difficulty: &str, question: &str) -> Json {
    json!({
        "topic": topic,
        "subtopic": subtopic,
        "difficulty": difficulty,
        "translations": [{
            "language": "en",
            "question": question,
            "answers": ["alpha", "beta", "gamma"],
            "correct_answer": "delta",
            "explanation": explanation_of(question),
        }]
    })
}

/// Six Python tasks (easy, medium, hard, easy, medium, hard) and two Go tasks (easy, hard), in that order.
fn standard_bank() -> Json {
    let mut tasks: Vec<Json> = ["easy", "medium", "hard", "easy", "medium", "hard"]
        .iter()
        .enumerate()
        .map(|(i, d)| task_json("Python", "Basics", d, &format!("What does Python snippet {i} print?")))
        .collect();
    tasks.push(task_json("Go", "Basics", "easy", "What is the zero value of an int in Go?"));
    tasks.push(task_json("Go", "Basics", "hard", "What does a nil map read return in Go?"));
    json!({ "tasks": tasks })
}

async fn import(p: &Platform, token: &str, bank: &Json) -> Reply {
    post("/api/v1/admin/tasks/import").bearer(token).json(bank).send(p, admin::import_tasks).await
}

/// A task as stored (its English translation): what a test needs to answer it right or wrong.
#[derive(Debug, Clone, PartialEq)]
struct Task {
    id: i64,
    topic_id: i64,
    subtopic_id: i64,
    difficulty: String,
    question: String,
    options: Vec<String>,
    correct: usize,
    explanation: Option<String>,
}

impl Task {
    fn weight(&self) -> i64 {
        match self.difficulty.as_str() {
            "easy" => 10,
            "medium" => 25,
            "hard" => 50,
            other => panic!("difficulty {other}"),
        }
    }

    fn right(&self) -> Json {
        json!({ "option_index": self.correct })
    }

    fn wrong(&self) -> Json {
        json!({ "option_index": (self.correct + 1) % self.options.len() })
    }
}

fn dont_know() -> Json {
    json!({ "dont_know": true })
}

async fn stored_tasks(p: &Platform) -> Vec<Task> {
    let conn = p.db.connection().await.unwrap();
    let rows = conn
        .query(
            "SELECT k.id, k.topic_id, k.subtopic_id, k.difficulty, tr.question, tr.options, tr.correct_index, tr.explanation
             FROM tasks k JOIN task_translations tr ON tr.task_id = k.id AND tr.language = 'en' ORDER BY k.id",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| Task {
            id: r.get(0),
            topic_id: r.get(1),
            subtopic_id: r.get(2),
            difficulty: r.get(3),
            question: r.get(4),
            options: r.get(5),
            correct: r.get::<_, i16>(6) as usize,
            explanation: r.get(7),
        })
        .collect()
}

/// An administrator and the standard bank, imported and published.
struct World {
    admin: User,
    tasks: Vec<Task>,
}

async fn world(p: &Platform) -> World {
    let admin = admin_user(p).await;
    let report = import(p, &admin.token, &standard_bank()).await.ok();
    assert_eq!(report["created"], 8, "{report}");
    let tasks = stored_tasks(p).await;
    assert_eq!(tasks.len(), 8);
    World { admin, tasks }
}

async fn count(p: &Platform, sql: &str) -> i64 {
    let conn = p.db.connection().await.unwrap();
    conn.query_one(sql, &[]).await.unwrap().get(0)
}

// ---------------------------------------------------------------------------------------------------------------
// Answering, statistics, catalogue, leaderboard
// ---------------------------------------------------------------------------------------------------------------

async fn answer(p: &Platform, token: &str, task_id: i64, body: &Json) -> Reply {
    post(&format!("/api/v1/tasks/{task_id}/answer"))
        .param("task_id", task_id)
        .bearer(token)
        .json(body)
        .send(p, answers::submit_answer)
        .await
}

async fn my_stats(p: &Platform, token: &str) -> Json {
    get("/api/v1/me/stats").bearer(token).send(p, stats::my_stats).await.ok()
}

async fn feed(p: &Platform, viewer: Option<&User>, subtopic_id: i64) -> Reply {
    get(&format!("/api/v1/subtopics/{subtopic_id}/tasks"))
        .param("subtopic_id", subtopic_id)
        .maybe_bearer(viewer.map(|u| u.token.as_str()))
        .send(p, catalogue::task_feed)
        .await
}

async fn topics(p: &Platform, viewer: Option<&User>) -> Reply {
    get("/api/v1/topics").maybe_bearer(viewer.map(|u| u.token.as_str())).send(p, catalogue::list_topics).await
}

async fn board(p: &Platform, filters: &[(&str, &str)]) -> Reply {
    let mut call = get("/api/v1/leaderboard");
    for (name, value) in filters {
        call = call.query(name, value);
    }
    call.send(p, leaderboard::route).await
}

/// (user id, rating, solved) per row, checking the ranks run 1, 2, 3…
#[track_caller]
fn ranking_of(reply: Reply) -> Vec<(i64, i64, i64)> {
    let body = reply.ok();
    let rows = body["rows"].as_array().expect("rows");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["rank"], i + 1, "{body}");
    }
    rows.iter()
        .map(|r| (r["user_id"].as_i64().unwrap(), r["rating"].as_i64().unwrap(), r["solved"].as_i64().unwrap()))
        .collect()
}

/// Filters of the plain SQL ranking.
#[derive(Default)]
struct Narrow<'a> {
    gender: Option<&'a str>,
    online: bool,
    ages: Option<(i32, i32)>,
    favourite_topic: Option<i64>,
}

impl Narrow<'_> {
    /// Whether any filter is set: a filtered list holds public profiles only.
    fn any(&self) -> bool {
        self.gender.is_some() || self.online || self.ages.is_some() || self.favourite_topic.is_some()
    }
}

/// The leaderboard computed the plain way, from first answers alone: rating = weights of solved first answers,
/// ordered by rating, solved count, the time of the last solved first answer (who got there first), user id.
async fn expected_ranking(p: &Platform, narrow: &Narrow<'_>, limit: i64) -> Vec<(i64, i64, i64)> {
    let conn = p.db.connection().await.unwrap();
    let (min_age, max_age) = narrow.ages.map_or((None, None), |(a, b)| (Some(a), Some(b)));
    let rows = conn
        .query(
            "WITH totals AS (
                 SELECT r.user_id,
                        coalesce(sum(CASE k.difficulty WHEN 'easy' THEN 10 WHEN 'medium' THEN 25 WHEN 'hard' THEN 50 END)
                                 FILTER (WHERE r.solved), 0)::bigint AS rating,
                        count(*) FILTER (WHERE r.solved) AS solved,
                        max(r.answered_at) FILTER (WHERE r.solved) AS reached
                 FROM task_results r JOIN tasks k ON k.id = r.task_id
                 GROUP BY r.user_id)
             SELECT t.user_id, t.rating, t.solved
             FROM totals t JOIN users u ON u.id = t.user_id
             WHERE u.deactivated_at IS NULL
               AND ($1::text IS NULL OR u.gender = $1)
               AND (NOT $2 OR u.last_seen_at > now() - interval '5 minutes')
               AND ($3::int IS NULL OR extract(year FROM age(current_date, u.birth_date)) BETWEEN $3::int AND $4::int)
               AND ($5::bigint IS NULL OR EXISTS (SELECT 1 FROM user_favourite_topics f WHERE f.user_id = u.id AND f.topic_id = $5))
               AND (NOT $7 OR u.is_public)
             ORDER BY t.rating DESC, t.solved DESC, t.reached NULLS LAST, t.user_id
             LIMIT $6",
            &[&narrow.gender, &narrow.online, &min_age, &max_age, &narrow.favourite_topic, &limit, &narrow.any()],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Right,
    Wrong,
    DontKnow,
}

fn body_for(task: &Task, outcome: Outcome) -> Json {
    match outcome {
        Outcome::Right => task.right(),
        Outcome::Wrong => task.wrong(),
        Outcome::DontKnow => dont_know(),
    }
}

/// Times, tokens and other values that differ between two otherwise identical runs.
const RUN_SPECIFIC: &[&str] =
    &["computed_at", "rating_reached_at", "created_at", "last_seen_at", "expires_at", "published_at"];

fn without_run_specifics(mut value: Json) -> Json {
    match &mut value {
        Json::Object(map) => {
            map.retain(|k, _| !RUN_SPECIFIC.contains(&k.as_str()));
            for v in map.values_mut() {
                *v = without_run_specifics(v.take());
            }
        }
        Json::Array(items) => {
            for v in items.iter_mut() {
                *v = without_run_specifics(v.take());
            }
        }
        _ => {}
    }
    value
}

fn observed(reply: Reply) -> Json {
    without_run_specifics(json!({ "status": reply.status, "body": reply.body }))
}

// ---------------------------------------------------------------------------------------------------------------
// A private Redis server that a test may stop, pause and restart
// ---------------------------------------------------------------------------------------------------------------

struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self::start_on(port).await
    }

    /// A fresh server (no data) on `port`, answering PING before this returns.
    async fn start_on(port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("quiz-test-redis-{port}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let server = Self { port, dir, child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis_command(port, &["PING"]).ok().as_deref() != Some("+PONG") {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (SIGKILL): everything it held is gone.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One command over a raw RESP connection; the first line of the reply.
fn redis_command(port: u16, args: &[&str]) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes())?;
    let mut buffer = [0u8; 512];
    let n = stream.read(&mut buffer)?;
    Ok(String::from_utf8_lossy(&buffer[..n]).lines().next().unwrap_or_default().to_string())
}

// ===============================================================================================================
// §1 Identity: Telegram sign-in
// ===============================================================================================================

async fn users_and_sessions(p: &Platform) -> (i64, i64) {
    (count(p, "SELECT count(*) FROM users").await, count(p, "SELECT count(*) FROM sessions").await)
}

#[tokio::test]
async fn signed_init_data_signs_in_and_creates_the_user_once() {
    let p = platform().await;
    let data = sign_init_data(&telegram(4242, "Grace"), Utc::now(), bot_token(&p));
    let first = mini_app_sign_in(&p, &data).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["created"], true);
    let again = mini_app_sign_in(&p, &sign_init_data(&telegram(4242, "Grace"), Utc::now(), bot_token(&p))).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["user"]["id"], first.body["user"]["id"], "the same user");
    let user = signed_in(again);
    assert_eq!(me(&p, &user.token).await.ok()["telegram_id"], 4242);
    assert_eq!(users_and_sessions(&p).await, (1, 2));
}

#[tokio::test]
async fn forged_altered_and_stale_init_data_are_refused_and_create_nothing() {
    let p = platform().await;
    let now = Utc::now();
    let alice = telegram(5001, "Alice");
    let admin_id = p.config.identity.admin_telegram_ids[0];
    let genuine = sign_init_data(&alice, now, bot_token(&p));
    assert!(genuine.contains("%22id%22%3A5001") && genuine.contains("Alice"), "{genuine}");

    let cases = [
        ("forged: signed with another bot's token", sign_init_data(&alice, now, "1000000002:SOMEONE-elses-token")),
        ("altered: the name changed after signing", genuine.replace("Alice", "Mallory")),
        (
            "altered: the id changed to the admin's after signing",
            genuine.replace("%22id%22%3A5001", &format!("%22id%22%3A{admin_id}")),
        ),
        ("altered: an old signature given a fresh auth_date", {
            let old = now - chrono::Duration::hours(30);
            sign_init_data(&alice, old, bot_token(&p))
                .replace(&format!("auth_date={}", old.timestamp()), &format!("auth_date={}", now.timestamp()))
        }),
        (
            "stale: auth_date 24 h and a minute ago",
            sign_init_data(&alice, now - chrono::Duration::seconds(24 * 3600 + 60), bot_token(&p)),
        ),
        ("stale: a week ago", sign_init_data(&alice, now - chrono::Duration::days(7), bot_token(&p))),
    ];
    for (what, init_data) in cases {
        let reply = mini_app_sign_in(&p, &init_data).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text);
        reply.expect_error(401, "unauthorized");
        assert!(reply.body.get("token").is_none(), "{what}");
    }
    assert_eq!(users_and_sessions(&p).await, (0, 0), "no user and no session was created");

    // Within the 24 hours the same user signs in.
    let recent = sign_init_data(&alice, now - chrono::Duration::hours(23), bot_token(&p));
    assert_eq!(mini_app_sign_in(&p, &recent).await.status, 201);
}

async fn widget_sign_in(p: &Platform, fields: &Json) -> Reply {
    post("/api/v1/auth/telegram/widget").json(fields).send(p, identity::sign_in_telegram_widget).await
}

#[tokio::test]
async fn forged_altered_and_stale_login_widget_data_are_refused_and_create_nothing() {
    let p = platform().await;
    let now = Utc::now();
    let mut bob = telegram(6001, "Bob");
    bob.language_code = None;
    let genuine = Json::Object(sign_login_widget(&bob, now, bot_token(&p)));

    let mut renamed = genuine.clone();
    renamed["first_name"] = json!("Mallory");
    let mut impersonating = genuine.clone();
    impersonating["id"] = json!(p.config.identity.admin_telegram_ids[0]);
    let mut with_extra_field = genuine.clone();
    with_extra_field["is_admin"] = json!("1");
    let cases = [
        ("forged", Json::Object(sign_login_widget(&bob, now, "1000000002:SOMEONE-elses-token"))),
        ("altered name", renamed),
        ("altered id", impersonating),
        ("a field added after signing", with_extra_field),
        (
            "stale",
            Json::Object(sign_login_widget(&bob, now - chrono::Duration::seconds(24 * 3600 + 60), bot_token(&p))),
        ),
    ];
    for (what, fields) in cases {
        let reply = widget_sign_in(&p, &fields).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text);
        reply.expect_error(401, "unauthorized");
    }
    assert_eq!(users_and_sessions(&p).await, (0, 0));

    let reply = widget_sign_in(&p, &genuine).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["user"]["telegram_id"], 6001);
}

#[tokio::test]
async fn the_configured_admin_is_an_admin_and_a_player_is_not() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let player = player(&p, 7001, "Pat").await;
    assert_eq!(me(&p, &admin.token).await.ok()["is_admin"], true);
    assert_eq!(me(&p, &player.token).await.ok()["is_admin"], false);
}

// ===============================================================================================================
// §1 Identity: e-mail and password
// ===============================================================================================================

#[tokio::test]
async fn a_wrong_password_or_an_unknown_address_is_401_and_the_right_one_signs_in() {
    let p = platform().await;
    assert_eq!(register(&p, "ada@example.com", "correct horse 1").await.status, 202);
    let wrong = login(&p, "ada@example.com", "correct horse 2").await;
    wrong.expect_error(401, "unauthorized");
    let unknown = login(&p, "nobody@example.com", "correct horse 1").await;
    unknown.expect_error(401, "unauthorized");
    assert_eq!(wrong.body, unknown.body, "the same answer, so it does not tell who has an account");
    let right = login(&p, "ADA@example.com", "correct horse 1").await;
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(me(&p, &signed_in(right).token).await.ok()["email"], "ada@example.com");
}

#[tokio::test]
async fn registering_a_taken_address_answers_as_a_new_one_and_mails_its_owner_instead() {
    let p = platform().await;
    let first = register(&p, "Ada@Example.com", "correct horse 1").await;
    let again = register(&p, "ada@example.COM", "another password").await;
    assert_eq!((first.status, again.status), (202, 202), "{} / {}", first.text, again.text);
    assert_eq!(first.body, again.body, "the answer does not tell whether the address has an account");
    assert_eq!(count(&p, "SELECT count(*) FROM users").await, 1);
    // The first password still works: nothing was overwritten.
    assert_eq!(login(&p, "ada@example.com", "correct horse 1").await.status, 200);
    login(&p, "ada@example.com", "another password").await.expect_error(401, "unauthorized");
    let mails: Vec<platform::mail::Email> = queued_mail(&p).await.iter().map(|m| m.payload().unwrap()).collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects.len(), 2, "{mails:?}");
    assert!(
        subjects.contains(&"Welcome to the quiz") && subjects.contains(&"Somebody tried to register with your address"),
        "{subjects:?}"
    );
    assert!(mails.iter().all(|m| m.to == ["Ada@Example.com"]), "both go to the address the account has: {mails:?}");
}

#[tokio::test]
async fn common_and_too_short_passwords_are_refused_and_create_nothing() {
    let p = platform().await;
    for weak in ["12345678", "Password1", "qwertyuiop", "short", "ada@example.com"] {
        assert_eq!(register(&p, "ada@example.com", weak).await.fields(), ["password"], "{weak}");
    }
    assert_eq!(count(&p, "SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn logging_out_makes_the_token_useless() {
    let p = platform().await;
    let user = account(&p, "ada@example.com", "correct horse 1").await;
    assert_eq!(me(&p, &user.token).await.status, 200, "the token works, and its session is now cached");
    let out = post("/api/v1/auth/logout").bearer(&user.token).send(&p, identity::sign_out).await.ok();
    assert_eq!(out["sessions_ended"], 1);
    me(&p, &user.token).await.expect_error(401, "unauthorized");
    let again = post("/api/v1/auth/logout").bearer(&user.token).send(&p, identity::sign_out).await;
    again.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_of_the_user_only() {
    let p = platform().await;
    let first = account(&p, "ada@example.com", "correct horse 1").await;
    let second = signed_in(login(&p, "ada@example.com", "correct horse 1").await);
    let other = account(&p, "bob@example.com", "correct horse 1").await;
    for token in [&first.token, &second.token, &other.token] {
        assert_eq!(me(&p, token).await.status, 200);
    }
    let out = post("/api/v1/auth/logout")
        .bearer(&second.token)
        .json(&json!({"everywhere": true}))
        .send(&p, identity::sign_out)
        .await
        .ok();
    assert_eq!(out["sessions_ended"], 2);
    me(&p, &first.token).await.expect_error(401, "unauthorized");
    me(&p, &second.token).await.expect_error(401, "unauthorized");
    assert_eq!(me(&p, &other.token).await.status, 200, "another user's session is untouched");
}

/// The mail jobs now waiting on the test's mail queue.
async fn queued_mail(p: &TestPlatform) -> Vec<platform::jobs::JobEnvelope> {
    let mut found = Vec::new();
    loop {
        let received = p
            .jobs
            .sqs()
            .receive_message()
            .queue_url(&p.mail_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive from the mail queue");
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return found;
        }
        for m in messages {
            let body = m.body.expect("a message body");
            let raw: Json = serde_json::from_str(&body).unwrap();
            assert_eq!(raw["kind"], "send-email", "{body}");
            found.push(platform::jobs::JobEnvelope::parse(&body).expect("a job envelope"));
        }
    }
}

fn reset_token_in(text: &str) -> String {
    let start = text.find("token=").unwrap_or_else(|| panic!("a reset link in: {text}")) + "token=".len();
    text[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}

async fn confirm_reset(p: &Platform, token: &str, new_password: &str) -> Reply {
    post("/api/v1/auth/password-reset/confirm")
        .json(&json!({ "token": token, "new_password": new_password }))
        .send(p, identity::confirm_password_reset)
        .await
}

#[tokio::test]
async fn a_password_reset_mails_one_link_that_sets_the_new_password_once() {
    let p = platform().await;
    let before = account(&p, "ada@example.com", "old password 1").await;
    assert_eq!(me(&p, &before.token).await.status, 200);
    let welcome = queued_mail(&p).await;
    assert_eq!(welcome.len(), 1, "the welcome mail of the registration: {welcome:?}");

    let ask = |email: &'static str| {
        post("/api/v1/auth/password-reset").json(&json!({ "email": email })).send(&p, identity::request_password_reset)
    };
    let unknown = ask("nobody@example.com").await;
    let known = ask("ADA@example.com").await;
    assert_eq!((unknown.status, known.status), (202, 202));
    assert_eq!(unknown.body, known.body, "the answer does not tell who has an account");

    let mail = queued_mail(&p).await;
    assert_eq!(mail.len(), 1, "exactly one mail, for the account that exists: {mail:?}");
    assert_eq!(mail[0].kind, platform::jobs::JobKind::SendEmail);
    let email: platform::mail::Email = mail[0].payload().unwrap();
    assert_eq!(email.to, ["ada@example.com"]);
    assert!(email.text.contains(&format!("{}/reset-password?token=", p.config.public_base_url)), "{}", email.text);
    let token = reset_token_in(&email.text);
    assert_eq!(token.len(), 64, "{}", email.text);

    let confirmed = confirm_reset(&p, &token, "new password 2").await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let fresh = signed_in(confirmed);
    assert_eq!(me(&p, &fresh.token).await.status, 200, "the confirmation signs in");
    me(&p, &before.token).await.expect_error(401, "unauthorized");

    login(&p, "ada@example.com", "old password 1").await.expect_error(401, "unauthorized");
    assert_eq!(login(&p, "ada@example.com", "new password 2").await.status, 200);

    confirm_reset(&p, &token, "third password 3").await.expect_error(400, "invalid_reset_token");
    login(&p, "ada@example.com", "third password 3").await.expect_error(401, "unauthorized");
    assert_eq!(login(&p, "ada@example.com", "new password 2").await.status, 200, "the used link changed nothing");
}

#[tokio::test]
async fn a_made_up_reset_token_is_refused_before_the_new_password_is_even_read() {
    let p = platform().await;
    // Before, the new password was checked (and hashed) first: a weak one answered about the password.
    let made_up = "ab".repeat(32);
    confirm_reset(&p, &made_up, "1234").await.expect_error(400, "invalid_reset_token");
    confirm_reset(&p, &made_up, "a perfectly fine password").await.expect_error(400, "invalid_reset_token");
    assert_eq!(
        count(&p, "SELECT count(*) FROM auth_limits WHERE scope = 'reset-confirm-address'").await,
        0,
        "a made-up token costs no hash"
    );
}

#[tokio::test]
async fn one_client_cannot_try_a_password_over_many_addresses() {
    let p = platform().await;
    account(&p, "ada@example.com", "correct horse 1").await;
    for i in 0..30 {
        login_from(&p, "203.0.113.5", &format!("user{i}@example.com"), "summer sky 1")
            .await
            .expect_error(401, "unauthorized");
    }
    let refused = login_from(&p, "203.0.113.5", "ada@example.com", "correct horse 1").await;
    refused.expect_error(429, "rate_limited");
    // Another client is not affected.
    assert_eq!(login_from(&p, "198.51.100.7", "ada@example.com", "correct horse 1").await.status, 200);
}

#[tokio::test]
async fn failing_for_somebody_elses_account_never_locks_its_owner_out() {
    let p = platform().await;
    account(&p, "ada@example.com", "correct horse 1").await;
    for _ in 0..10 {
        login_from(&p, "203.0.113.66", "ada@example.com", "wrong guess 1").await.expect_error(401, "unauthorized");
    }
    // The attacker's address is stopped for this account, even with the right password…
    login_from(&p, "203.0.113.66", "ada@example.com", "correct horse 1").await.expect_error(429, "rate_limited");
    // …and the owner, elsewhere, signs in.
    assert_eq!(login_from(&p, "198.51.100.20", "ada@example.com", "correct horse 1").await.status, 200);
}

#[tokio::test]
async fn sign_in_limits_hold_without_redis() {
    let p = platform_with(|s| {
        s.insert("REDIS_URL".into(), "redis://127.0.0.1:1/0".into());
    })
    .await;
    account(&p, "ada@example.com", "correct horse 1").await;
    for _ in 0..10 {
        login_from(&p, "203.0.113.9", "ada@example.com", "wrong guess 1").await.expect_error(401, "unauthorized");
    }
    login_from(&p, "203.0.113.9", "ada@example.com", "wrong guess 1").await.expect_error(429, "rate_limited");
}

#[tokio::test]
async fn registrations_from_one_client_are_limited() {
    let p = platform().await;
    let from = |i: usize| {
        post("/api/v1/auth/register")
            .from_ip("203.0.113.77")
            .json(&json!({ "email": format!("new{i}@example.com"), "password": "correct horse 1" }))
    };
    for i in 0..10 {
        assert_eq!(from(i).send(&p, identity::register).await.status, 202);
    }
    from(10).send(&p, identity::register).await.expect_error(429, "rate_limited");
    assert_eq!(count(&p, "SELECT count(*) FROM users").await, 10);
}

// ===============================================================================================================
// §1 Authorisation: sessions act for their own user only; admin-only operations
// ===============================================================================================================

#[tokio::test]
async fn answers_given_with_another_users_session_never_show_in_your_stats() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 8001, "Alice").await;
    let b = player(&p, 8002, "Bob").await;
    answer(&p, &b.token, w.tasks[0].id, &w.tasks[0].right()).await.ok();
    answer(&p, &b.token, w.tasks[1].id, &w.tasks[1].wrong()).await.ok();
    // Naming someone else in the body is refused outright, not quietly believed.
    for spoof in [json!({"option_index": 0, "user_id": a.id}), json!({"option_index": 0, "telegram_id": 8001})] {
        answer(&p, &b.token, w.tasks[2].id, &spoof).await.expect_error(400, "invalid_json");
    }

    let mine = my_stats(&p, &a.token).await;
    assert_eq!(
        (mine["user_id"].as_i64(), &mine["attempted"], &mine["answers"], &mine["rating"]),
        (Some(a.id), &json!(0), &json!(0), &json!(0))
    );
    let theirs = my_stats(&p, &b.token).await;
    assert_eq!((&theirs["attempted"], &theirs["solved"], &theirs["rating"]), (&json!(2), &json!(1), &json!(10)));
    let fed = feed(&p, Some(&a), w.tasks[0].subtopic_id).await.ok();
    assert!(fed["tasks"].as_array().unwrap().iter().all(|t| t["answered"] == false), "{fed}");
}

#[tokio::test]
async fn a_player_cannot_import_or_publish_and_changes_nothing() {
    let p = platform().await;
    let w = world(&p).await;
    let player = player(&p, 8101, "Pat").await;
    let bank = json!({ "tasks": [task_json("Rust", "Ownership", "hard", "Who owns this value?")] });
    import(&p, &player.token, &bank).await.expect_error(403, "forbidden");
    let anonymous = post("/api/v1/admin/tasks/import").json(&bank).send(&p, admin::import_tasks).await;
    anonymous.expect_error(401, "unauthorized");
    assert_eq!(count(&p, "SELECT count(*) FROM tasks").await, 8);
    assert_eq!(count(&p, "SELECT count(*) FROM topics WHERE name = 'Rust'").await, 0);

    let task = &w.tasks[0];
    let unpublish = |token: &str| {
        patch(&format!("/api/v1/admin/tasks/{}", task.id))
            .param("task_id", task.id)
            .bearer(token)
            .json(&json!({"published": false}))
    };
    unpublish(&player.token).send(&p, admin::update_task).await.expect_error(403, "forbidden");
    assert_eq!(
        count(&p, &format!("SELECT count(*) FROM tasks WHERE id = {} AND published_at IS NOT NULL", task.id)).await,
        1
    );
    assert_eq!(answer(&p, &player.token, task.id, &task.right()).await.status, 200, "still published");

    // The admin can: the task leaves the feed and can no longer be answered.
    let state = unpublish(&w.admin.token).send(&p, admin::update_task).await.ok();
    assert_eq!(state["published"], false);
    let fed = feed(&p, Some(&player), task.subtopic_id).await.ok();
    assert!(fed["tasks"].as_array().unwrap().iter().all(|t| t["id"] != task.id), "{fed}");
    answer(&p, &player.token, task.id, &task.right()).await.expect_error(404, "not_found");
}

// ===============================================================================================================
// §3 The feed never gives the answer away
// ===============================================================================================================

#[tokio::test]
async fn the_feed_carries_neither_the_correct_option_nor_the_explanation_before_an_answer_and_both_after() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 9001, "Alice").await;
    let b = player(&p, 9002, "Bob").await;
    let python: Vec<&Task> = w.tasks.iter().filter(|t| t.subtopic_id == w.tasks[0].subtopic_id).collect();
    assert_eq!(python.len(), 6);

    let shows_no_answer = |reply: &Reply, who: &str| {
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert!(!reply.text.contains("correct_index"), "{who}: {}", reply.text);
        assert!(!reply.text.contains("\"explanation\""), "{who}: {}", reply.text);
        for t in &python {
            assert!(!reply.text.contains(&explanation_of(&t.question)), "{who}: {}", reply.text);
        }
    };
    shows_no_answer(&feed(&p, None, w.tasks[0].subtopic_id).await, "anonymous");
    shows_no_answer(&feed(&p, Some(&a), w.tasks[0].subtopic_id).await, "signed in, nothing answered");

    let answered = &w.tasks[2];
    let outcome = answer(&p, &a.token, answered.id, &answered.wrong()).await.ok();
    assert_eq!(outcome["correct"], false);
    assert_eq!(outcome["correct_index"], answered.correct);
    assert_eq!(outcome["correct_option"], "delta");
    assert_eq!(outcome["explanation"], explanation_of(&answered.question));

    let after = feed(&p, Some(&a), w.tasks[0].subtopic_id).await;
    let body = after.body.clone();
    for item in body["tasks"].as_array().unwrap() {
        if item["id"] == answered.id {
            assert_eq!(item["answered"], true);
            assert_eq!(item["correct_index"], answered.correct, "{item}");
            assert_eq!(item["explanation"], explanation_of(&answered.question));
            assert_eq!(item["your_answer"]["solved"], false);
            assert_eq!(item["your_answer"]["chosen_index"], (answered.correct + 1) % answered.options.len());
            // The shares the answer showed, again on revisit: one first answer, on the option chosen.
            assert_eq!(item["total_first_answers"], 1, "{item}");
            let shares = item["option_shares"].as_array().unwrap();
            assert_eq!(shares.len(), answered.options.len() + 1, "every option and \"I don't know\"");
            let chosen = (answered.correct + 1) % answered.options.len();
            for (i, share) in shares.iter().enumerate() {
                assert_eq!(share["count"], u64::from(i == chosen), "{item}");
            }
        } else {
            assert!(item.get("correct_index").is_none() && item.get("explanation").is_none(), "{item}");
            assert!(item.get("option_shares").is_none(), "no shares before answering: {item}");
        }
    }
    for t in python.iter().filter(|t| t.id != answered.id) {
        assert!(!after.text.contains(&explanation_of(&t.question)), "{}", after.text);
    }
    // Someone else's answer gives nothing away to Bob or to anonymous readers.
    shows_no_answer(&feed(&p, Some(&b), w.tasks[0].subtopic_id).await, "another player");
    shows_no_answer(&feed(&p, None, w.tasks[0].subtopic_id).await, "anonymous, after someone answered");
}

// ===============================================================================================================
// §3 Answering
// ===============================================================================================================

#[tokio::test]
async fn re_answering_a_failed_task_correctly_changes_nothing_but_the_attempt_count() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 9101, "Alice").await;
    let t = &w.tasks[2];
    let first = answer(&p, &a.token, t.id, &t.wrong()).await.ok();
    assert_eq!(
        (&first["counted"], &first["correct"], &first["rating"], &first["solved"]),
        (&json!(true), &json!(false), &json!(0), &json!(0))
    );
    let second = answer(&p, &a.token, t.id, &t.right()).await.ok();
    assert_eq!(
        (&second["counted"], &second["correct"], &second["rating"], &second["solved"]),
        (&json!(false), &json!(true), &json!(0), &json!(0))
    );

    let s = my_stats(&p, &a.token).await;
    assert_eq!(
        (&s["attempted"], &s["solved"], &s["failed"], &s["answers"]),
        (&json!(1), &json!(0), &json!(1), &json!(2))
    );
    assert_eq!((&s["rating"], &s["current_streak"], &s["best_streak"]), (&json!(0), &json!(0), &json!(0)));
    let fed = feed(&p, Some(&a), t.subtopic_id).await.ok();
    let item = fed["tasks"].as_array().unwrap().iter().find(|i| i["id"] == t.id).unwrap().clone();
    assert_eq!(item["your_answer"]["solved"], false, "the first answer decides: {item}");
    assert!(ranking_of(board(&p, &[]).await).contains(&(a.id, 0, 0)));
}

#[tokio::test]
async fn re_answering_a_solved_task_wrongly_keeps_it_solved_with_its_rating_and_streak() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 9201, "Alice").await;
    for t in &w.tasks[0..3] {
        assert_eq!(answer(&p, &a.token, t.id, &t.right()).await.ok()["counted"], true);
    }
    for body in [w.tasks[2].wrong(), dont_know(), w.tasks[2].wrong()] {
        let again = answer(&p, &a.token, w.tasks[2].id, &body).await.ok();
        assert_eq!(
            (&again["counted"], &again["correct"], &again["rating"], &again["solved"]),
            (&json!(false), &json!(false), &json!(85), &json!(3))
        );
    }
    let s = my_stats(&p, &a.token).await;
    assert_eq!(
        (&s["solved"], &s["failed"], &s["rating"], &s["answers"]),
        (&json!(3), &json!(0), &json!(85), &json!(6))
    );
    assert_eq!((&s["current_streak"], &s["best_streak"]), (&json!(3), &json!(3)), "practice does not break a streak");
    assert_eq!(ranking_of(board(&p, &[]).await), [(a.id, 85, 3)]);
}

#[tokio::test]
async fn option_shares_count_each_first_answer_once() {
    let p = platform().await;
    let w = world(&p).await;
    let t = &w.tasks[0];
    let n = t.options.len();
    let (a, b, c) = (player(&p, 9301, "A").await, player(&p, 9302, "B").await, player(&p, 9303, "C").await);
    let share = |outcome: &Json, index: Option<usize>| -> (i64, f64) {
        let s =
            outcome["option_shares"].as_array().unwrap().iter().find(|s| s["index"] == json!(index)).unwrap().clone();
        (s["count"].as_i64().unwrap(), s["percent"].as_f64().unwrap())
    };

    let first = answer(&p, &a.token, t.id, &json!({"option_index": 1})).await.ok();
    assert_eq!(first["total_first_answers"], 1);
    assert_eq!(share(&first, Some(1)), (1, 100.0), "the first answerer sees 100% on their option: {first}");
    assert_eq!(first["option_shares"].as_array().unwrap().len(), n + 1, "every option and \"I don't know\"");
    assert!((0..n).filter(|i| *i != 1).all(|i| share(&first, Some(i)) == (0, 0.0)));
    assert_eq!(share(&first, None), (0, 0.0));

    let second = answer(&p, &b.token, t.id, &json!({"option_index": 2})).await.ok();
    assert_eq!(second["total_first_answers"], 2);
    assert_eq!((share(&second, Some(1)), share(&second, Some(2))), ((1, 50.0), (1, 50.0)));

    // A practice answer is not a first answer: the shares stay as they were.
    let practice = answer(&p, &a.token, t.id, &json!({"option_index": 3})).await.ok();
    assert_eq!(practice["counted"], false);
    assert_eq!(practice["total_first_answers"], 2);
    assert_eq!(
        (share(&practice, Some(1)), share(&practice, Some(2)), share(&practice, Some(3))),
        ((1, 50.0), (1, 50.0), (0, 0.0))
    );

    let unsure = answer(&p, &c.token, t.id, &dont_know()).await.ok();
    assert_eq!(unsure["correct"], false, "\"I don't know\" is always wrong");
    assert_eq!(unsure["total_first_answers"], 3);
    assert_eq!(share(&unsure, None), (1, 33.3));
    assert_eq!(share(&unsure, Some(1)), (1, 33.3));
}

/// Holds the row of a user's running totals locked from another connection, so that two answers of that user
/// both start before either is recorded: the interleaving two Lambda instances may produce.
async fn lock_totals_of(p: &TestPlatform, user_id: i64) -> tokio_postgres::Client {
    let (client, connection) =
        tokio_postgres::connect(&p.settings["DATABASE_URL"], tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute("BEGIN").await.unwrap();
    let locked = client.query("SELECT 1 FROM user_stats WHERE user_id = $1 FOR UPDATE", &[&user_id]).await.unwrap();
    assert_eq!(locked.len(), 1);
    client
}

/// Two first answers of one user to one task from two instances at once, one right and one wrong.
async fn two_concurrent_first_answers(p: &TestPlatform, w: &World, a: &User, t: &Task) -> (Json, Json) {
    // A first answer elsewhere gives the user a row of totals to hold.
    answer(p, &a.token, w.tasks[6].id, &w.tasks[6].right()).await.ok();
    let other_instance = Platform::new(p.config.clone()).await.unwrap();
    let lock = lock_totals_of(p, a.id).await;
    let (right_body, wrong_body) = (t.right(), t.wrong());
    let (right, wrong, ()) = tokio::join!(
        answer(p, &a.token, t.id, &right_body),
        answer(&other_instance, &a.token, t.id, &wrong_body),
        async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            lock.batch_execute("COMMIT").await.unwrap();
        }
    );
    (right.ok(), wrong.ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_first_answers_from_the_same_user_count_once() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 9401, "Alice").await;
    let t = &w.tasks[1];
    let (right, wrong) = two_concurrent_first_answers(&p, &w, &a, t).await;
    let counted: Vec<bool> = [&right, &wrong].iter().map(|o| o["counted"].as_bool().unwrap()).collect();
    assert_eq!(counted.iter().filter(|c| **c).count(), 1, "exactly one counted: {right} {wrong}");
    let solved = right["counted"] == true;

    let s = my_stats(&p, &a.token).await;
    assert_eq!((&s["attempted"], &s["answers"]), (&json!(2), &json!(3)), "{s}");
    let expected_rating = 10 + if solved { t.weight() } else { 0 };
    assert_eq!(
        (s["solved"].as_i64(), s["failed"].as_i64(), s["rating"].as_i64()),
        (Some(1 + solved as i64), Some(!solved as i64), Some(expected_rating))
    );
    assert_eq!(count(&p, &format!("SELECT count(*) FROM task_results WHERE task_id = {}", t.id)).await, 1);
    assert_eq!(count(&p, &format!("SELECT count(*) FROM attempts WHERE task_id = {} AND counted", t.id)).await, 1);
    assert_eq!(ranking_of(board(&p, &[]).await), [(a.id, expected_rating, 1 + solved as i64)]);

    // The same from one instance (its requests share one connection, so they queue): still once.
    let u = &w.tasks[2];
    let body = u.right();
    let (x, y) = tokio::join!(answer(&p, &a.token, u.id, &body), answer(&p, &a.token, u.id, &body));
    let (x, y) = (x.ok(), y.ok());
    assert_eq!([&x["counted"], &y["counted"]].iter().filter(|c| ***c == json!(true)).count(), 1);
    assert_eq!(my_stats(&p, &a.token).await["attempted"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_losing_concurrent_answer_still_counts_the_first_answer_in_its_shares() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 9501, "Alice").await;
    let t = &w.tasks[1];
    let (right, wrong) = two_concurrent_first_answers(&p, &w, &a, t).await;
    for outcome in [&right, &wrong] {
        assert_eq!(outcome["total_first_answers"], 1, "the user's one first answer, counted once: {outcome}");
    }
}

// ===============================================================================================================
// §3 Statistics
// ===============================================================================================================

#[track_caller]
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per statistic the assertion names, in the order of the body"
)]
fn assert_stats(
    s: &Json,
    attempted: i64,
    solved: i64,
    failed: i64,
    accuracy: Option<f64>,
    rating: i64,
    current: i64,
    best: i64,
) {
    let got = (
        &s["attempted"],
        &s["solved"],
        &s["failed"],
        s["accuracy"].as_f64(),
        &s["rating"],
        &s["current_streak"],
        &s["best_streak"],
    );
    let want =
        (&json!(attempted), &json!(solved), &json!(failed), accuracy, &json!(rating), &json!(current), &json!(best));
    assert_eq!(got, want, "(attempted, solved, failed, accuracy, rating, current streak, best streak) in {s}");
}

fn achievement_codes(s: &Json) -> Vec<String> {
    s["achievements"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap().to_string()).collect()
}

async fn play(p: &Platform, who: &User, steps: &[(&Task, Outcome)]) {
    for (task, outcome) in steps {
        answer(p, &who.token, task.id, &body_for(task, *outcome)).await.ok();
    }
}

#[tokio::test]
async fn streaks_and_accuracy_follow_the_first_answers_in_order() {
    use Outcome::*;
    let p = platform().await;
    let w = world(&p).await;
    let t = &w.tasks; // easy, medium, hard, easy, medium, hard (weights 10, 25, 50, 10, 25, 50)

    // S, S, F, (practice: the failed one again, right), S, S, S → current 3, best 3, 5 of 6 = 83.3 %.
    let a = player(&p, 9601, "Alice").await;
    play(&p, &a, &[(&t[0], Right)]).await;
    let s = my_stats(&p, &a.token).await;
    assert_stats(&s, 1, 1, 0, Some(100.0), 10, 1, 1);
    assert_eq!(achievement_codes(&s), ["first_answer"]);
    play(&p, &a, &[(&t[1], Right), (&t[2], Wrong), (&t[2], Right)]).await;
    assert_stats(&my_stats(&p, &a.token).await, 3, 2, 1, Some(66.7), 35, 0, 2);
    play(&p, &a, &[(&t[3], Right), (&t[4], Right), (&t[5], Right)]).await;
    let s = my_stats(&p, &a.token).await;
    assert_stats(&s, 6, 5, 1, Some(83.3), 120, 3, 3);
    assert_eq!(s["answers"], 7);
    assert_eq!(achievement_codes(&s), ["first_answer", "streak_3"]);
    let python = s["topics"].as_array().unwrap().iter().find(|x| x["name"] == "Python").unwrap().clone();
    assert_eq!(
        (&python["attempted"], &python["solved"], &python["published"]),
        (&json!(6), &json!(5), &json!(6)),
        "{python}"
    );

    // S, S, S, F, S → current 1, best 3, 80 %.
    let b = player(&p, 9602, "Bob").await;
    play(&p, &b, &[(&t[0], Right), (&t[1], Right), (&t[2], Right), (&t[3], Wrong), (&t[4], Right)]).await;
    let s = my_stats(&p, &b.token).await;
    assert_stats(&s, 5, 4, 1, Some(80.0), 110, 1, 3);
    assert_eq!(achievement_codes(&s), ["first_answer", "streak_3"]);

    // "I don't know" is a failed first answer.
    let c = player(&p, 9603, "Cy").await;
    play(&p, &c, &[(&t[5], DontKnow)]).await;
    let s = my_stats(&p, &c.token).await;
    assert_stats(&s, 1, 0, 1, Some(0.0), 0, 0, 0);
    assert_eq!(achievement_codes(&s), ["first_answer"]);

    // Nothing answered: no accuracy, no achievements.
    let d = player(&p, 9604, "Di").await;
    let s = my_stats(&p, &d.token).await;
    assert_stats(&s, 0, 0, 0, None, 0, 0, 0);
    assert!(achievement_codes(&s).is_empty());
}

#[tokio::test]
async fn the_rating_adds_10_25_and_50_per_solved_easy_medium_and_hard_task() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 9701, "Alice").await;
    let (easy, medium, hard, other_hard) = (&w.tasks[0], &w.tasks[1], &w.tasks[2], &w.tasks[5]);
    let mut ratings = Vec::new();
    for (task, body) in
        [(easy, easy.right()), (medium, medium.right()), (hard, hard.right()), (other_hard, other_hard.wrong())]
    {
        ratings.push(answer(&p, &a.token, task.id, &body).await.ok()["rating"].as_i64().unwrap());
    }
    assert_eq!(ratings, [10, 35, 85, 85]);
    assert_eq!(my_stats(&p, &a.token).await["rating"], 85);
    assert_eq!(ranking_of(board(&p, &[]).await), [(a.id, 85, 3)]);
}

// ===============================================================================================================
// §3 Leaderboard
// ===============================================================================================================

/// Eight players and a mixed sequence of first answers, practice answers and "I don't know" over the standard
/// bank. Final standings: u5 100/2, u7 50/2, u2 50/1, u3 45/3, then u1, u0 and u4 at 35/2 — reached in that order,
/// so u1 comes before u0 although u0 signed up first — and u6 0/0.
async fn leaderboard_world(p: &Platform) -> (World, Vec<User>) {
    use Outcome::*;
    let w = world(p).await;
    let mut players = Vec::new();
    for i in 0..8 {
        players.push(player(p, 10_000 + i, &format!("Player{i}")).await);
    }
    let t = &w.tasks;
    let steps: &[(usize, usize, Outcome)] = &[
        (1, 1, Right),
        (1, 0, Right),
        (0, 0, Right),
        (2, 2, Right),
        (0, 1, Right),
        (3, 0, Right),
        (3, 3, Right),
        (4, 1, Right),
        (5, 5, Right),
        (5, 2, Right),
        (5, 2, Wrong),
        (2, 0, Wrong),
        (6, 0, Wrong),
        (6, 1, DontKnow),
        (7, 1, Right),
        (7, 4, Right),
        (4, 3, Wrong),
        (3, 1, Right),
        (0, 4, Wrong),
        (6, 0, Right),
        (4, 0, Right),
    ];
    for (who, task, outcome) in steps {
        answer(p, &players[*who].token, t[*task].id, &body_for(&t[*task], *outcome)).await.ok();
    }
    (w, players)
}

#[tokio::test]
async fn the_leaderboard_agrees_with_a_plain_ranking_of_first_answers_and_survives_a_rebuild() {
    let p = platform().await;
    let (w, u) = leaderboard_world(&p).await;
    let all = expected_ranking(&p, &Narrow::default(), 100).await;
    let order: Vec<i64> = all.iter().map(|r| r.0).collect();
    assert_eq!(order, [5, 7, 2, 3, 1, 0, 4, 6].map(|i| u[i].id), "the hand-computed order: {all:?}");
    assert_eq!(all[0], (u[5].id, 100, 2));

    // Built from PostgreSQL on the first read, then served from the sorted set; every page size agrees.
    assert_eq!(ranking_of(board(&p, &[]).await), all, "first read (rebuild)");
    assert_eq!(ranking_of(board(&p, &[]).await), all, "from the sorted set");
    for limit in 1..=9 {
        let l = limit.to_string();
        assert_eq!(
            ranking_of(board(&p, &[("limit", &l)]).await),
            expected_ranking(&p, &Narrow::default(), limit).await,
            "limit {limit}"
        );
    }

    // Deleting the sorted set: rebuilt, and still the same.
    assert!(leaderboard::forget(&p).await);
    assert_eq!(
        ranking_of(board(&p, &[("limit", "5")]).await),
        expected_ranking(&p, &Narrow::default(), 5).await,
        "rebuilt, limit 5"
    );
    assert_eq!(ranking_of(board(&p, &[]).await), all, "after the rebuild");

    // Answers after the rebuild move players in the set: u6 reaches 50/1 after u2 did, so comes after u2.
    answer(&p, &u[6].token, w.tasks[5].id, &w.tasks[5].right()).await.ok();
    let now = expected_ranking(&p, &Narrow::default(), 100).await;
    assert_eq!(now.iter().position(|r| r.0 == u[6].id), Some(3), "{now:?}");
    assert_eq!(ranking_of(board(&p, &[]).await), now);
    for limit in [3, 4, 5] {
        let l = limit.to_string();
        assert_eq!(
            ranking_of(board(&p, &[("limit", &l)]).await),
            expected_ranking(&p, &Narrow::default(), limit).await,
            "limit {limit}"
        );
    }
    assert!(leaderboard::forget(&p).await);
    assert_eq!(ranking_of(board(&p, &[]).await), now);
}

#[tokio::test]
async fn leaderboard_filters_narrow_to_the_matching_players() {
    let p = platform().await;
    let (w, u) = leaderboard_world(&p).await;
    let today = Utc::now().date_naive();
    let born = |years: u32| (today - chrono::Months::new(12 * years + 1)).format("%Y-%m-%d").to_string();
    let python = w.tasks[0].topic_id;
    let changes = [
        (1, json!({"gender": "female", "birth_date": born(20)})),
        (2, json!({"gender": "female", "birth_date": born(30), "favourite_topic_ids": [python]})),
        (6, json!({"gender": "female", "birth_date": born(22)})),
        (0, json!({"gender": "male", "birth_date": born(40)})),
        (5, json!({"gender": "male", "birth_date": born(25), "favourite_topic_ids": [python]})),
        (3, json!({"gender": "other"})),
        (7, json!({"favourite_topic_ids": [python]})),
    ];
    for (i, change) in changes {
        patch_me(&p, &u[i].token, &change).await.ok();
    }
    let conn = p.db.connection().await.unwrap();
    let offline = vec![u[5].id, u[1].id];
    conn.execute("UPDATE users SET last_seen_at = now() - interval '10 minutes' WHERE id = ANY($1)", &[&offline])
        .await
        .unwrap();

    let python_id = python.to_string();
    let cases: Vec<(Vec<(&str, &str)>, Narrow, usize)> = vec![
        (vec![("gender", "female")], Narrow { gender: Some("female"), ..Default::default() }, 3),
        (vec![("gender", "male")], Narrow { gender: Some("male"), ..Default::default() }, 2),
        (vec![("gender", "other")], Narrow { gender: Some("other"), ..Default::default() }, 1),
        (vec![("online", "true")], Narrow { online: true, ..Default::default() }, 6),
        (
            vec![("gender", "female"), ("online", "1")],
            Narrow { gender: Some("female"), online: true, ..Default::default() },
            2,
        ),
        (vec![("age", "18-25")], Narrow { ages: Some((18, 25)), ..Default::default() }, 3),
        (vec![("age", "26-35")], Narrow { ages: Some((26, 35)), ..Default::default() }, 1),
        (
            vec![("age", "36-45"), ("gender", "male")],
            Narrow { ages: Some((36, 45)), gender: Some("male"), ..Default::default() },
            1,
        ),
        (vec![("topic", python_id.as_str())], Narrow { favourite_topic: Some(python), ..Default::default() }, 3),
        (vec![("online", "false")], Narrow::default(), 8),
    ];
    for (query, narrow, size) in cases {
        let expected = expected_ranking(&p, &narrow, 100).await;
        assert_eq!(expected.len(), size, "{query:?}: the case selects what it means to: {expected:?}");
        assert_eq!(ranking_of(board(&p, &query).await), expected, "{query:?}");
    }
    // Users without the attribute never match it.
    let female = ranking_of(board(&p, &[("gender", "female")]).await);
    assert!(female.iter().all(|r| [u[1].id, u[2].id, u[6].id].contains(&r.0)), "{female:?}");
}

#[tokio::test]
async fn a_private_profile_appears_in_no_list_filtered_by_what_it_hides() {
    let p = platform().await;
    let (w, u) = leaderboard_world(&p).await;
    let python = w.tasks[0].topic_id;
    let born = (Utc::now().date_naive() - chrono::Months::new(12 * 30 + 1)).format("%Y-%m-%d").to_string();
    let private = &u[5];
    patch_me(
        &p,
        &private.token,
        &json!({"gender": "female", "birth_date": born, "favourite_topic_ids": [python], "is_public": false}),
    )
    .await
    .ok();
    // A public player with the same attributes: every filtered list below has someone to show.
    let twin = &u[7];
    patch_me(&p, &twin.token, &json!({"gender": "female", "birth_date": born, "favourite_topic_ids": [python]}))
        .await
        .ok();
    let python_id = python.to_string();
    let everyone = ranking_of(board(&p, &[]).await);
    assert_eq!(
        everyone.first().map(|r| r.0),
        Some(private.id),
        "unfiltered, the private player keeps their place (without details)"
    );
    let filters = [
        ([("gender", "female")], Narrow { gender: Some("female"), ..Default::default() }),
        ([("age", "26-35")], Narrow { ages: Some((26, 35)), ..Default::default() }),
        ([("topic", python_id.as_str())], Narrow { favourite_topic: Some(python), ..Default::default() }),
        ([("online", "true")], Narrow { online: true, ..Default::default() }),
    ];
    for (filter, narrow) in filters {
        let rows = ranking_of(board(&p, &filter).await);
        assert!(!rows.iter().any(|r| r.0 == private.id), "{filter:?} lists the private player: {rows:?}");
        // The list is the public players who match, not merely a list without the private one.
        assert!(rows.iter().any(|r| r.0 == twin.id), "{filter:?} leaves out the public twin: {rows:?}");
        assert_eq!(rows, expected_ranking(&p, &narrow, 100).await, "{filter:?}");
    }
}

#[tokio::test]
async fn a_deactivated_player_leaves_the_leaderboard_without_taking_a_place() {
    let p = platform().await;
    let w = world(&p).await;
    let (a, b, c) = (player(&p, 18_001, "A").await, player(&p, 18_002, "B").await, player(&p, 18_003, "C").await);
    play(&p, &a, &[(&w.tasks[2], Outcome::Right), (&w.tasks[5], Outcome::Right)]).await; // 100
    play(&p, &b, &[(&w.tasks[2], Outcome::Right)]).await; // 50
    play(&p, &c, &[(&w.tasks[1], Outcome::Right)]).await; // 25
    assert_eq!(
        ranking_of(board(&p, &[]).await),
        [(a.id, 100, 2), (b.id, 50, 1), (c.id, 25, 1)],
        "the sorted set is built"
    );

    let conn = p.db.connection().await.unwrap();
    conn.execute("UPDATE users SET deactivated_at = now() WHERE id = $1", &[&b.id]).await.unwrap();
    users::invalidate(&p, b.id).await;
    me(&p, &b.token).await.expect_error(401, "unauthorized");
    assert_eq!(ranking_of(board(&p, &[]).await), [(a.id, 100, 2), (c.id, 25, 1)]);
    for limit in [1i64, 2] {
        let l = limit.to_string();
        assert_eq!(
            ranking_of(board(&p, &[("limit", &l)]).await),
            expected_ranking(&p, &Narrow::default(), limit).await,
            "limit {limit}"
        );
    }
}

// ===============================================================================================================
// §3 Caching: Redis going away loses speed, never data
// ===============================================================================================================

struct Cast {
    tasks: Vec<Task>,
    players: Vec<User>,
}

async fn outage_cast(p: &Platform) -> Cast {
    let w = world(p).await;
    let mut players = Vec::new();
    for (i, name) in ["Ann", "Ben", "Cat"].iter().enumerate() {
        players.push(player(p, 11_000 + i as i64, name).await);
    }
    Cast { tasks: w.tasks, players }
}

async fn outage_answers(p: &Platform, c: &Cast, steps: &[(usize, usize, Outcome)]) -> Vec<Json> {
    let mut seen = Vec::new();
    for (who, task, outcome) in steps {
        let t = &c.tasks[*task];
        seen.push(observed(answer(p, &c.players[*who].token, t.id, &body_for(t, *outcome)).await));
    }
    seen
}

/// Everything a player could look at: each player's statistics, topics and feeds, the leaderboard whole and
/// paged, a topic.
async fn outage_snapshot(p: &Platform, c: &Cast) -> Vec<Json> {
    let mut seen = Vec::new();
    for u in &c.players {
        seen.push(observed(get("/api/v1/me/stats").bearer(&u.token).send(p, stats::my_stats).await));
        seen.push(observed(topics(p, Some(u)).await));
        seen.push(observed(feed(p, Some(u), c.tasks[0].subtopic_id).await));
        seen.push(observed(feed(p, Some(u), c.tasks[6].subtopic_id).await));
    }
    seen.push(observed(board(p, &[]).await));
    seen.push(observed(board(p, &[("limit", "2")]).await));
    seen.push(observed(topics(p, None).await));
    seen.push(observed(feed(p, None, c.tasks[0].subtopic_id).await));
    let topic = c.tasks[0].topic_id;
    seen.push(observed(
        get(&format!("/api/v1/topics/{topic}")).param("topic_id", topic).send(p, catalogue::get_topic).await,
    ));
    seen
}

#[track_caller]
fn assert_same(stage: &str, got: &[Json], want: &[Json]) {
    assert_eq!(got.len(), want.len(), "{stage}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{stage}, observation {i}");
    }
}

const BEFORE_OUTAGE: &[(usize, usize, Outcome)] =
    &[(0, 0, Outcome::Right), (0, 1, Outcome::Right), (1, 0, Outcome::Wrong), (2, 6, Outcome::Right)];
const DURING_OUTAGE: &[(usize, usize, Outcome)] = &[
    (0, 2, Outcome::Wrong),
    (0, 2, Outcome::Right),
    (1, 1, Outcome::Right),
    (1, 2, Outcome::Right),
    (2, 0, Outcome::DontKnow),
    (0, 3, Outcome::Right),
    (2, 7, Outcome::Right),
    (1, 0, Outcome::Right),
];

#[tokio::test]
async fn answers_stats_leaderboard_topics_and_feed_stay_right_when_redis_dies_and_comes_back_empty() {
    // The reference: the same sequence with Redis up throughout.
    let reference = platform().await;
    let rc = outage_cast(&reference).await;
    let ref_before = outage_answers(&reference, &rc, BEFORE_OUTAGE).await;
    let ref_snapshot_before = outage_snapshot(&reference, &rc).await;
    let ref_during = outage_answers(&reference, &rc, DURING_OUTAGE).await;
    let ref_snapshot = outage_snapshot(&reference, &rc).await;
    assert_eq!(ref_snapshot, outage_snapshot(&reference, &rc).await, "the reference reads the same twice");

    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let p = platform_with(|s| {
        s.insert("REDIS_URL".into(), url);
    })
    .await;
    let c = outage_cast(&p).await;
    assert_eq!(
        (c.tasks.clone(), c.players.iter().map(|u| u.id).collect::<Vec<_>>()),
        (rc.tasks.clone(), rc.players.iter().map(|u| u.id).collect())
    );
    assert_same("before the outage: answers", &outage_answers(&p, &c, BEFORE_OUTAGE).await, &ref_before);
    assert_same("before the outage: snapshot", &outage_snapshot(&p, &c).await, &ref_snapshot_before);
    assert_eq!(
        redis_command(redis.port, &["EXISTS", &format!("{}leaderboard", p.cache.prefix())]).unwrap(),
        ":1",
        "Redis was in use"
    );

    redis.kill();
    let started = Instant::now();
    assert_same("during the outage: answers", &outage_answers(&p, &c, DURING_OUTAGE).await, &ref_during);
    assert_same("during the outage: snapshot", &outage_snapshot(&p, &c).await, &ref_snapshot);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "an outage costs speed, within reason: {:?}",
        started.elapsed()
    );

    // A fresh, empty server on the same port: nothing stale, nothing lost, and the caches fill again.
    let port = redis.port;
    drop(redis);
    let fresh = PrivateRedis::start_on(port).await;
    let leaderboard_key = format!("{}leaderboard", p.cache.prefix());
    let deadline = Instant::now() + Duration::from_secs(20);
    // The first uses of the restarted server may still fail (each failure skips the cache for a second); every
    // read meanwhile must be right, and the caches must fill again soon.
    while redis_command(fresh.port, &["EXISTS", &leaderboard_key]).unwrap() != ":1" {
        assert!(Instant::now() < deadline, "the cache was not used again within 20 s of Redis coming back");
        assert_same("after Redis is back: while it reconnects", &outage_snapshot(&p, &c).await, &ref_snapshot);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_same("after Redis is back: rebuilt caches", &outage_snapshot(&p, &c).await, &ref_snapshot);
    assert_same("after Redis is back: from the caches", &outage_snapshot(&p, &c).await, &ref_snapshot);
    assert_eq!(
        redis_command(fresh.port, &["EXISTS", &format!("{}catalogue", p.cache.prefix())]).unwrap(),
        ":1",
        "the catalogue is cached again"
    );
}

#[tokio::test]
async fn a_redis_blip_that_keeps_its_data_leaves_nothing_stale() {
    let redis = PrivateRedis::start().await;
    let url = redis.url();
    let p = platform_with(|s| {
        s.insert("REDIS_URL".into(), url);
    })
    .await;
    let c = outage_cast(&p).await;
    let (ann, ben) = (&c.players[0], &c.players[1]);
    outage_answers(&p, &c, &[(1, 0, Outcome::Right), (1, 1, Outcome::Right), (0, 0, Outcome::Right)]).await;
    // Everything read once, so it is cached: Ann's stats and topic counts, the leaderboard's sorted set.
    assert_eq!(my_stats(&p, &ann.token).await["rating"], 10);
    topics(&p, Some(ann)).await.ok();
    assert_eq!(ranking_of(board(&p, &[]).await), [(ben.id, 35, 2), (ann.id, 10, 1)]);

    // Redis stops answering for six seconds (longer than the client's timeout) but keeps its data, as a failover
    // or an overloaded server does. Ann solves a hard task meanwhile.
    assert_eq!(redis_command(redis.port, &["CLIENT", "PAUSE", "6000", "ALL"]).unwrap(), "+OK");
    let paused = Instant::now();
    let hard = &c.tasks[2];
    let outcome = answer(&p, &ann.token, hard.id, &hard.right()).await.ok();
    assert_eq!((&outcome["counted"], &outcome["rating"]), (&json!(true), &json!(60)));
    tokio::time::sleep(Duration::from_millis(7500).saturating_sub(paused.elapsed())).await;

    let mut stale = Vec::new();
    let s = my_stats(&p, &ann.token).await;
    if s["rating"] != 60 || s["solved"] != 2 {
        stale.push(format!("my stats: rating {} solved {} (truth: 60, 2)", s["rating"], s["solved"]));
    }
    let listed = topics(&p, Some(ann)).await.ok();
    let python = listed["topics"].as_array().unwrap().iter().find(|t| t["name"] == "Python").unwrap().clone();
    if python["answered_count"] != 2 {
        stale.push(format!("topic list: answered_count {} (truth: 2)", python["answered_count"]));
    }
    let shown = ranking_of(board(&p, &[]).await);
    let truth = expected_ranking(&p, &Narrow::default(), 100).await;
    if shown != truth {
        stale.push(format!("leaderboard: {shown:?} (truth: {truth:?})"));
    }
    assert!(stale.is_empty(), "stale after the blip:\n{}", stale.join("\n"));
}

// ===============================================================================================================
// §2 Import
// ===============================================================================================================

async fn content_counts(p: &Platform) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["topics", "subtopics", "tasks", "task_translations"] {
        counts.push(count(p, &format!("SELECT count(*) FROM {table}")).await);
    }
    counts
}

#[tokio::test]
async fn importing_the_same_file_twice_creates_nothing_new() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let mut bank = standard_bank();
    // One task identified by its translation group, with two languages.
    bank["tasks"].as_array_mut().unwrap().push(json!({
        "topic": "SQL", "difficulty": "Medium", "translation_group_id": "grp-1",
        "translations": [
            {"language": "en", "question": "What does COUNT(NULL) return?", "answers": ["NULL", "1"], "correct_answer": "0"},
            {"language": "ru", "question": "Что вернёт COUNT(NULL)?", "answers": "[\"NULL\", \"1\"]", "correct_answer": "0"}
        ]
    }));
    let first = import(&p, &admin.token, &bank).await.ok();
    assert_eq!(
        (&first["created"], &first["existing"], &first["rejected"]),
        (&json!(9), &json!(0), &json!(0)),
        "{first}"
    );
    assert_eq!(first["topics_created"], json!(["Python", "Go", "SQL"]));
    let before = content_counts(&p).await;
    assert_eq!(before, [3, 3, 9, 10], "topics, subtopics (SQL's under \"General\"), tasks, translations");

    let second = import(&p, &admin.token, &bank).await.ok();
    assert_eq!(
        (&second["created"], &second["existing"], &second["rejected"]),
        (&json!(0), &json!(9), &json!(0)),
        "{second}"
    );
    assert!(
        second["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "exists" && t.get("translations_added").is_none()),
        "{second}"
    );
    assert_eq!((&second["topics_created"], &second["subtopics_created"]), (&json!([]), &json!([])));
    let first_ids: Vec<&Json> = first["tasks"].as_array().unwrap().iter().map(|t| &t["task_id"]).collect();
    let second_ids: Vec<&Json> = second["tasks"].as_array().unwrap().iter().map(|t| &t["task_id"]).collect();
    assert_eq!(first_ids, second_ids, "the same tasks were found");
    assert_eq!(content_counts(&p).await, before);

    // A new language for a known task is added to it, and nothing else is created.
    let more = json!({"tasks": [{
        "topic": "SQL", "difficulty": "medium", "translation_group_id": "grp-1",
        "translations": [{"language": "de", "question": "Was liefert COUNT(NULL)?", "answers": ["NULL", "1", "0"], "correct_answer": "0"}]
    }]});
    let third = import(&p, &admin.token, &more).await.ok();
    assert_eq!(third["tasks"][0]["status"], "exists");
    assert_eq!(third["tasks"][0]["translations_added"], json!(["de"]));
    assert_eq!(content_counts(&p).await, [3, 3, 9, 11]);
}

#[tokio::test]
async fn one_bad_task_is_reported_with_its_reasons_and_the_good_ones_are_imported() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let bank = json!({"tasks": [
        task_json("Python", "Loops", "easy", "Good task one"),
        {
            "topic": "Python", "subtopic": "Loops", "difficulty": "extreme",
            "translations": [{"language": "english", "question": "Bad task", "answers": ["only"], "correct_answer": "only"}]
        },
        task_json("Python", "Loops", "hard", "Good task two"),
    ]});
    let report = import(&p, &admin.token, &bank).await.ok();
    assert_eq!((&report["created"], &report["rejected"]), (&json!(2), &json!(1)), "{report}");
    let statuses: Vec<&Json> = report["tasks"].as_array().unwrap().iter().map(|t| &t["status"]).collect();
    assert_eq!(statuses, [&json!("created"), &json!("rejected"), &json!("created")]);
    let reasons = report["tasks"][1]["reasons"].as_object().expect("reasons for the rejected task").clone();
    let fields: Vec<&str> = reasons.keys().map(String::as_str).collect();
    assert_eq!(fields, ["difficulty", "translations[0].answers", "translations[0].language"], "{report}");
    assert!(reasons["difficulty"].as_str().unwrap().contains("easy, medium or hard"));
    assert!(report["tasks"][1].get("task_id").is_none());

    let stored: Vec<String> = stored_tasks(&p).await.into_iter().map(|t| t.question).collect();
    assert_eq!(stored, ["Good task one", "Good task two"]);
    // The good ones are live: in the feed and answerable.
    let player = player(&p, 12_001, "Pat").await;
    let tasks = stored_tasks(&p).await;
    let fed = feed(&p, Some(&player), tasks[0].subtopic_id).await.ok();
    assert_eq!(fed["total"], 2);
    assert_eq!(answer(&p, &player.token, tasks[1].id, &tasks[1].right()).await.ok()["correct"], true);
}

#[tokio::test]
async fn answers_given_as_a_json_encoded_string_import_and_answer_like_an_array() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let bank = json!({"tasks": [{
        "topic": "Go", "subtopic": "Slices", "difficulty": "medium",
        "translations": [{
            "language": "en", "question": "What is len(make([]int, 3, 5))?",
            "answers": "[\"5\", \"0\", \"8\"]", "correct_answer": "3", "explanation": "len is the length, not the capacity"
        }]
    }]});
    let report = import(&p, &admin.token, &bank).await.ok();
    assert_eq!(report["created"], 1, "{report}");
    let task = stored_tasks(&p).await.remove(0);
    let mut options = task.options.clone();
    options.sort();
    assert_eq!(options, ["0", "3", "5", "8"], "the encoded options, with the correct answer added");
    assert_eq!(task.options[task.correct], "3");

    let player = player(&p, 12_101, "Pat").await;
    let fed = feed(&p, Some(&player), task.subtopic_id).await.ok();
    assert_eq!(fed["tasks"][0]["options"], json!(task.options));
    let outcome = answer(&p, &player.token, task.id, &task.right()).await.ok();
    assert_eq!((&outcome["correct"], &outcome["correct_option"]), (&json!(true), &json!("3")));
    assert_eq!(outcome["explanation"], "len is the length, not the capacity");
}

#[tokio::test]
async fn importing_unpublished_then_publishing_makes_tasks_visible_only_then() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let bank = json!({"tasks": [task_json("Rust", "Traits", "easy", "Which trait does `?` use?")]});
    let report = post("/api/v1/admin/tasks/import")
        .bearer(&admin.token)
        .query("publish", "false")
        .json(&bank)
        .send(&p, admin::import_tasks)
        .await
        .ok();
    assert_eq!(report["published"], false);
    let task = stored_tasks(&p).await.remove(0);
    assert_eq!(topics(&p, None).await.ok()["topics"], json!([]), "a draft makes no topic visible");
    assert_eq!(feed(&p, None, task.subtopic_id).await.ok()["total"], 0);
    let player = player(&p, 12_201, "Pat").await;
    answer(&p, &player.token, task.id, &task.right()).await.expect_error(404, "not_found");

    let state = patch(&format!("/api/v1/admin/tasks/{}", task.id))
        .param("task_id", task.id)
        .bearer(&admin.token)
        .json(&json!({"published": true}))
        .send(&p, admin::update_task)
        .await
        .ok();
    assert_eq!(state["published"], true);
    assert_eq!(topics(&p, None).await.ok()["topics"][0]["task_count"], 1);
    assert_eq!(feed(&p, None, task.subtopic_id).await.ok()["total"], 1);
    assert_eq!(answer(&p, &player.token, task.id, &task.right()).await.ok()["correct"], true);
}

#[tokio::test]
async fn topics_whose_names_slug_alike_all_import() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    // "Go" → go, "Go 3" → go-3, "Go!" → go again, so it needs a suffix: the first free one, go-2 (go-3 is taken).
    let bank = json!({"tasks": [
        task_json("Go", "Basics", "easy", "First question"),
        task_json("Go 3", "Basics", "easy", "Second question"),
        task_json("Go!", "Basics", "easy", "Third question"),
    ]});
    let reply = import(&p, &admin.token, &bank).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["created"], 3);
    assert_eq!(count(&p, "SELECT count(DISTINCT slug) FROM topics").await, 3);
    let conn = p.db.connection().await.unwrap();
    let slugs: Vec<String> =
        conn.query("SELECT slug FROM topics ORDER BY id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(slugs, ["go", "go-3", "go-2"]);
}

// ===============================================================================================================
// §1 The profile
// ===============================================================================================================

#[tokio::test]
async fn a_profile_change_is_saved_answered_and_shown() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 17_001, "Alice").await;
    let python = w.tasks[0].topic_id;
    let changes = json!({"first_name": " Grace ", "last_name": "Hopper", "username": "grace_h", "bio": "COBOL", "gender": "female",
                         "grade": "senior", "birth_date": "1990-12-09", "favourite_topic_ids": [python], "is_public": false});
    let answered = patch_me(&p, &a.token, &changes).await.ok();
    let shown = me(&p, &a.token).await.ok();
    assert_eq!(answered, shown, "the answer is the profile as it now is");
    assert_eq!(
        (&shown["first_name"], &shown["username"], &shown["gender"], &shown["grade"]),
        (&json!("Grace"), &json!("grace_h"), &json!("female"), &json!("senior"))
    );
    assert_eq!(
        (&shown["birth_date"], &shown["favourite_topic_ids"], &shown["is_public"]),
        (&json!("1990-12-09"), &json!([python]), &json!(false))
    );
    // null clears what may be empty; absent keeps.
    let cleared = patch_me(&p, &a.token, &json!({"bio": null, "first_name": null})).await.ok();
    assert_eq!(
        (&cleared["bio"], &cleared["first_name"], &cleared["last_name"]),
        (&Json::Null, &json!("Grace"), &json!("Hopper"))
    );
}

// ===============================================================================================================
// Bad input: the documented 4xx with an error body, never a 500, nothing half-written
// ===============================================================================================================

#[tokio::test]
async fn bad_sign_in_and_registration_input_is_a_documented_400() {
    let p = platform().await;
    let long_name = "x".repeat(129);
    let mini_app: &[(&[u8], &str)] = &[
        (b"", "invalid_json"),
        (b"{", "invalid_json"),
        (br#"{}"#, "invalid_json"),
        (br#"{"init_data": 5}"#, "invalid_json"),
        (br#"{"init_data": "x", "telegram_id": 1}"#, "invalid_json"),
        (br#"{"init_data": "user=%7B%7D&auth_date=1"}"#, "invalid_telegram_data"),
        (br#"{"init_data": "auth_date=1&hash=zz"}"#, "invalid_telegram_data"),
    ];
    for (body, code) in mini_app {
        let r = post("/api/v1/auth/telegram/mini-app").raw(*body).send(&p, identity::sign_in_mini_app).await;
        r.expect_error(400, code);
    }
    for (body, code) in [
        (json!([1]), "invalid_json"),
        (json!({"id": 1, "first_name": "x"}), "invalid_telegram_data"),
        (json!({"id": [1], "hash": "ab"}), "invalid_telegram_data"),
    ] {
        widget_sign_in(&p, &body).await.expect_error(400, code);
    }
    let registrations = [
        (json!({"email": "not-an-address", "password": "long enough"}), "validation_failed", Some("email")),
        (json!({"email": "a@example.com", "password": "short"}), "validation_failed", Some("password")),
        (json!({"email": "a@example.com", "password": "x".repeat(129)}), "validation_failed", Some("password")),
        (
            json!({"email": "a@example.com", "password": "long enough", "first_name": long_name}),
            "validation_failed",
            Some("first_name"),
        ),
        (
            json!({"email": "a@example.com", "password": "long enough", "language": "english"}),
            "validation_failed",
            Some("language"),
        ),
        (json!({"email": "a@example.com"}), "invalid_json", None),
        (json!({"email": 5, "password": "long enough"}), "invalid_json", None),
        (json!({"email": "a@example.com", "password": "long enough", "is_admin": true}), "invalid_json", None),
    ];
    for (body, code, field) in registrations {
        let r = post("/api/v1/auth/register").json(&body).send(&p, identity::register).await;
        r.expect_error(400, code);
        if let Some(field) = field {
            assert!(r.body["error"]["fields"][field].is_string(), "{body}: {}", r.text);
        }
    }
    post("/api/v1/auth/login")
        .json(&json!({"email": "nope", "password": "x"}))
        .send(&p, identity::sign_in)
        .await
        .expect_error(400, "validation_failed");
    post("/api/v1/auth/login")
        .json(&json!({"email": "a@example.com"}))
        .send(&p, identity::sign_in)
        .await
        .expect_error(400, "invalid_json");
    post("/api/v1/auth/password-reset")
        .json(&json!({"email": "nope"}))
        .send(&p, identity::request_password_reset)
        .await
        .expect_error(400, "validation_failed");
    post("/api/v1/auth/password-reset")
        .json(&json!({}))
        .send(&p, identity::request_password_reset)
        .await
        .expect_error(400, "invalid_json");
    confirm_reset(&p, "abc", "long enough").await.expect_error(400, "invalid_reset_token");
    confirm_reset(&p, &"a".repeat(64), "long enough").await.expect_error(400, "invalid_reset_token");
    // The token is checked first: a made-up one is refused whatever the password.
    confirm_reset(&p, &"a".repeat(64), "short").await.expect_error(400, "invalid_reset_token");
    post("/api/v1/auth/logout").send(&p, identity::sign_out).await.expect_error(401, "unauthorized");
    assert_eq!(users_and_sessions(&p).await, (0, 0), "nothing was written");

    let user = account(&p, "ada@example.com", "correct horse 1").await;
    post("/api/v1/auth/logout")
        .bearer(&user.token)
        .json(&json!({"everywhere": "yes"}))
        .send(&p, identity::sign_out)
        .await
        .expect_error(400, "invalid_json");
    assert_eq!(me(&p, &user.token).await.status, 200, "a refused logout ends nothing");
    for token in ["garbage".to_string(), "f".repeat(64)] {
        me(&p, &token).await.expect_error(401, "unauthorized");
    }
    get("/api/v1/me").send(&p, users::me::get_me).await.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn a_nul_character_in_a_registration_is_a_400_not_a_500() {
    let p = platform().await;
    let r = post("/api/v1/auth/register")
        .json(&json!({"email": "ada@example.com", "password": "long enough", "first_name": "Ada\u{0}"}))
        .send(&p, identity::register)
        .await;
    r.expect_error(400, "invalid_text");
    assert_eq!(r.body["error"]["fields"]["first_name"], "must not contain NUL characters");
}

#[tokio::test]
async fn a_nul_character_in_a_question_rejects_that_task_only() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let bank = json!({"tasks": [task_json("Python", "Basics", "easy", "Good question"), task_json("Python", "Basics", "easy", "Bad\u{0}question")]});
    let reply = import(&p, &admin.token, &bank).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!((&reply.body["created"], &reply.body["rejected"]), (&json!(1), &json!(1)));
    // (The helper derives the explanation from the question, so it holds the NUL too.)
    assert_eq!(
        reply.body["tasks"][1]["reasons"]["translations[0].question"], "must not contain NUL characters",
        "{}",
        reply.text
    );
    let stored: Vec<String> = stored_tasks(&p).await.into_iter().map(|t| t.question).collect();
    assert_eq!(stored, ["Good question"], "that task only");
}

#[tokio::test]
async fn bad_profile_changes_are_a_documented_4xx_and_change_nothing() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 13_001, "Alice").await;
    let b = player(&p, 13_002, "Bob").await;
    set_profile_in_db(&p, b.id, "username = 'taken_name'", &[]).await;
    set_profile_in_db(&p, a.id, "bio = 'original bio', gender = 'female'", &[w.tasks[0].topic_id]).await;
    let original = me(&p, &a.token).await.ok();
    assert_eq!(
        (&original["bio"], &original["favourite_topic_ids"]),
        (&json!("original bio"), &json!([w.tasks[0].topic_id]))
    );

    let eleven_topics: Vec<i64> = (1..=11).collect();
    let cases = [
        (json!({"first_name": "Changed", "bio": "new bio", "gender": "robot"}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "grade": "lead"}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "bio": "x".repeat(1001)}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "birth_date": "2020-13-01"}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "birth_date": "1800-01-01"}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "language": "english"}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "username": "a b"}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "favourite_topic_ids": eleven_topics}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "favourite_topic_ids": [999_999]}), 400, "validation_failed"),
        (json!({"first_name": "Changed", "is_public": "yes"}), 400, "invalid_json"),
        (json!({"first_name": "Changed", "favourite_topic_ids": "1"}), 400, "invalid_json"),
        (json!({"first_name": "Changed", "is_admin": true}), 400, "invalid_json"),
        (json!({"first_name": "Changed", "username": "TAKEN_NAME"}), 409, "conflict"),
        (json!({"first_name": ""}), 400, "validation_failed"),
        (json!({"first_name": "Ada\u{0}"}), 400, "invalid_text"),
    ];
    for (changes, status, code) in cases {
        let r = patch_me(&p, &a.token, &changes).await;
        assert_eq!(r.status, status, "{changes}: {}", r.text);
        r.expect_error(status, code);
        assert_eq!(me(&p, &a.token).await.ok(), original, "{changes} changed nothing");
    }
    patch("/api/v1/me")
        .bearer(&a.token)
        .raw("not json")
        .send(&p, users::me::update_me)
        .await
        .expect_error(400, "invalid_json");
    patch("/api/v1/me")
        .json(&json!({"first_name": "Anon"}))
        .send(&p, users::me::update_me)
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(me(&p, &a.token).await.ok(), original);
}

#[tokio::test]
async fn bad_catalogue_queries_are_a_documented_4xx() {
    let p = platform().await;
    let w = world(&p).await;
    let subtopic = w.tasks[0].subtopic_id;
    let topic = w.tasks[0].topic_id;

    get("/api/v1/topics")
        .query("lang", "english")
        .send(&p, catalogue::list_topics)
        .await
        .expect_error(400, "invalid_query");
    get("/api/v1/topics")
        .query("search", "x".repeat(101))
        .send(&p, catalogue::list_topics)
        .await
        .expect_error(400, "invalid_query");
    get("/api/v1/topics")
        .bearer("not-a-token")
        .send(&p, catalogue::list_topics)
        .await
        .expect_error(401, "unauthorized");
    for id in ["abc", "0", "-1", "99999999999999999999"] {
        get("/api/v1/topics/x")
            .param("topic_id", id)
            .send(&p, catalogue::get_topic)
            .await
            .expect_error(400, "invalid_path");
        get("/api/v1/topics/x/subtopics")
            .param("topic_id", id)
            .send(&p, catalogue::list_subtopics)
            .await
            .expect_error(400, "invalid_path");
        get("/api/v1/subtopics/x/tasks")
            .param("subtopic_id", id)
            .send(&p, catalogue::task_feed)
            .await
            .expect_error(400, "invalid_path");
    }
    get("/api/v1/topics/999999")
        .param("topic_id", 999_999)
        .send(&p, catalogue::get_topic)
        .await
        .expect_error(404, "not_found");
    get("/api/v1/topics/999999/subtopics")
        .param("topic_id", 999_999)
        .send(&p, catalogue::list_subtopics)
        .await
        .expect_error(404, "not_found");
    feed(&p, None, 999_999).await.expect_error(404, "not_found");
    get("/api/v1/topics/x")
        .param("topic_id", topic)
        .query("lang", "e")
        .send(&p, catalogue::get_topic)
        .await
        .expect_error(400, "invalid_query");
    for (name, value) in [
        ("difficulty", "extreme"),
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("offset", "-1"),
        ("lang", "eng"),
    ] {
        let r = get("/api/v1/subtopics/x/tasks")
            .param("subtopic_id", subtopic)
            .query(name, value)
            .send(&p, catalogue::task_feed)
            .await;
        r.expect_error(400, "invalid_query");
        assert!(r.body["error"]["fields"][name].is_string(), "{name}={value}: {}", r.text);
    }
    // Valid but unusual: a language without tasks, a page past the end.
    assert_eq!(
        get("/api/v1/topics").query("lang", "zz").send(&p, catalogue::list_topics).await.ok()["topics"],
        json!([])
    );
    let past = get("/api/v1/subtopics/x/tasks")
        .param("subtopic_id", subtopic)
        .query("offset", 1000)
        .send(&p, catalogue::task_feed)
        .await
        .ok();
    assert_eq!((&past["total"], &past["tasks"]), (&json!(6), &json!([])));
}

#[tokio::test]
async fn bad_answers_are_a_documented_4xx_and_record_nothing() {
    let p = platform().await;
    let w = world(&p).await;
    let a = player(&p, 14_001, "Alice").await;
    let t = &w.tasks[0];
    let too_far = t.options.len();

    for id in ["abc", "0", "-5"] {
        let r = post("/api/v1/tasks/x/answer")
            .param("task_id", id)
            .bearer(&a.token)
            .json(&t.right())
            .send(&p, answers::submit_answer)
            .await;
        r.expect_error(400, "invalid_path");
    }
    post("/api/v1/tasks/x/answer")
        .param("task_id", t.id)
        .json(&t.right())
        .send(&p, answers::submit_answer)
        .await
        .expect_error(401, "unauthorized");
    let cases = [
        (t.id, json!({}), 400, "validation_failed"),
        (t.id, json!({"option_index": too_far}), 400, "validation_failed"),
        (t.id, json!({"option_index": -1}), 400, "validation_failed"),
        (t.id, json!({"option_index": 0, "dont_know": true}), 400, "validation_failed"),
        (t.id, json!({"dont_know": false}), 400, "validation_failed"),
        (t.id, json!({"option_index": null, "dont_know": null}), 400, "validation_failed"),
        (t.id, json!({"option_index": "1"}), 400, "invalid_json"),
        (t.id, json!({"option_index": 1.5}), 400, "invalid_json"),
        (t.id, json!({"option_index": 1e30}), 400, "invalid_json"),
        (t.id, json!({"dont_know": "yes"}), 400, "invalid_json"),
        (t.id, json!({"option_index": 0, "language": "english"}), 400, "validation_failed"),
        (t.id, json!({"option_index": 0, "language": "zz"}), 404, "not_found"),
        (999_999, json!({"option_index": 0}), 404, "not_found"),
    ];
    for (task_id, body, status, code) in cases {
        let r = answer(&p, &a.token, task_id, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        r.expect_error(status, code);
    }
    post("/api/v1/tasks/x/answer")
        .param("task_id", t.id)
        .bearer(&a.token)
        .raw("\"0\"")
        .send(&p, answers::submit_answer)
        .await
        .expect_error(400, "invalid_json");
    post("/api/v1/tasks/x/answer")
        .param("task_id", t.id)
        .bearer(&a.token)
        .send(&p, answers::submit_answer)
        .await
        .expect_error(400, "invalid_json");
    assert_eq!(count(&p, "SELECT count(*) FROM attempts").await, 0, "nothing was recorded");
    assert_eq!(my_stats(&p, &a.token).await["answers"], 0);
    // A draft task cannot be answered either.
    let hidden = &w.tasks[1];
    patch("/x")
        .param("task_id", hidden.id)
        .bearer(&w.admin.token)
        .json(&json!({"published": false}))
        .send(&p, admin::update_task)
        .await
        .ok();
    answer(&p, &a.token, hidden.id, &hidden.right()).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn bad_leaderboard_and_profile_queries_are_a_documented_4xx() {
    let p = platform().await;
    for (name, value) in [
        ("gender", "robot"),
        ("age", "17-20"),
        ("online", "maybe"),
        ("limit", "0"),
        ("limit", "101"),
        ("topic", "abc"),
        ("topic", "0"),
    ] {
        let r = board(&p, &[(name, value)]).await;
        r.expect_error(400, "invalid_query");
        assert!(r.body["error"]["fields"][name].is_string(), "{name}={value}: {}", r.text);
    }
    assert_eq!(board(&p, &[("topic", "999999")]).await.ok()["rows"], json!([]), "an unknown topic matches nobody");
    for id in ["abc", "0"] {
        get("/api/v1/users/x")
            .param("user_id", id)
            .send(&p, stats::user_profile)
            .await
            .expect_error(400, "invalid_path");
    }
    get("/api/v1/users/999999")
        .param("user_id", 999_999)
        .send(&p, stats::user_profile)
        .await
        .expect_error(404, "not_found");
    get("/api/v1/me/stats").send(&p, stats::my_stats).await.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn bad_admin_requests_are_a_documented_4xx_and_import_nothing() {
    let p = platform().await;
    let w = world(&p).await;
    let player = player(&p, 15_001, "Pat").await;
    let before = content_counts(&p).await;
    let import_raw = |body: Vec<u8>| post("/api/v1/admin/tasks/import").bearer(&w.admin.token).raw(body);

    post("/x")
        .bearer(&w.admin.token)
        .query("publish", "maybe")
        .json(&standard_bank())
        .send(&p, admin::import_tasks)
        .await
        .expect_error(400, "invalid_query");
    import_raw(Vec::new()).send(&p, admin::import_tasks).await.expect_error(400, "invalid_json");
    import_raw(b"{\"tasks\": [".to_vec()).send(&p, admin::import_tasks).await.expect_error(400, "invalid_json");
    import_raw(b"[]".to_vec()).send(&p, admin::import_tasks).await.expect_error(400, "invalid_bank");
    import_raw(b"{\"tasks\": \"many\"}".to_vec()).send(&p, admin::import_tasks).await.expect_error(400, "invalid_bank");
    import_raw(b"{\"tasks\": []}".to_vec()).send(&p, admin::import_tasks).await.expect_error(422, "empty_bank");
    let huge = json!({"tasks": vec![task_json("X", "Y", "easy", "Q"); 1001]});
    import_raw(serde_json::to_vec(&huge).unwrap())
        .send(&p, admin::import_tasks)
        .await
        .expect_error(422, "too_many_tasks");
    import(&p, &player.token, &standard_bank()).await.expect_error(403, "forbidden");

    // A bank of nothing but bad tasks imports nothing and says why for each.
    let all_bad = json!({"tasks": [
        {"topic": "x".repeat(101), "difficulty": "easy", "translations": [{"language": "en", "question": "Q", "answers": ["a", "b"], "correct_answer": "a"}]},
        {"topic": "T", "difficulty": "easy", "translations": [{"language": "en", "question": "Q", "answers": ["a", "a"], "correct_answer": "a"}]},
        {"topic": "T", "difficulty": "easy", "translations": []},
        {"topic": "T", "difficulty": "easy", "image_url": "javascript:alert(1)", "translations": [{"language": "en", "question": "Q", "answers": ["a", "b"], "correct_answer": "a"}]},
        {"topic": "T", "difficulty": "easy", "translations": [{"language": "en", "question": "Q", "answers": 5, "correct_answer": "a"}]},
        {"topic": "T", "difficulty": "easy", "translations": [{"language": "en", "question": "", "answers": ["a", "b"], "correct_answer": "a"}]},
        {"topic": "T", "difficulty": "easy", "translations": [{"language": "en", "question": "Q", "answers": ["a", "b"], "correct_answer": "y".repeat(501)}]},
        "not an object",
    ]});
    let report = import(&p, &w.admin.token, &all_bad).await.ok();
    assert_eq!((&report["created"], &report["rejected"]), (&json!(0), &json!(8)), "{report}");
    assert!(
        report["tasks"].as_array().unwrap().iter().all(|t| t["reasons"].as_object().is_some_and(|r| !r.is_empty())),
        "{report}"
    );
    assert_eq!(content_counts(&p).await, before, "nothing was imported");

    let task = &w.tasks[0];
    let update = |id: &str, token: Option<&str>, body: &[u8]| {
        patch("/api/v1/admin/tasks/x")
            .param("task_id", id)
            .maybe_bearer(token)
            .raw(body.to_vec())
            .send(&p, admin::update_task)
    };
    let id = task.id.to_string();
    update("abc", Some(w.admin.token.as_str()), br#"{"published": false}"#).await.expect_error(400, "invalid_path");
    update(&id, None, br#"{"published": false}"#).await.expect_error(401, "unauthorized");
    update(&id, Some(player.token.as_str()), br#"{"published": false}"#).await.expect_error(403, "forbidden");
    update(&id, Some(w.admin.token.as_str()), br#"{}"#).await.expect_error(400, "invalid_json");
    update(&id, Some(w.admin.token.as_str()), br#"{"published": "no"}"#).await.expect_error(400, "invalid_json");
    update(&id, Some(w.admin.token.as_str()), br#"{"published": false, "topic_id": 2}"#)
        .await
        .expect_error(400, "invalid_json");
    update("999999", Some(w.admin.token.as_str()), br#"{"published": false}"#).await.expect_error(404, "not_found");
    assert_eq!(
        count(&p, "SELECT count(*) FROM tasks WHERE published_at IS NULL").await,
        0,
        "every task is still published"
    );
}

// ===============================================================================================================
// Languages
// ===============================================================================================================

#[tokio::test]
async fn the_feed_shows_your_answer_against_the_options_you_chose_from() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    // Same options in both languages; the stored order is shuffled per question text, so it differs between them.
    let tasks: Vec<Json> = (0..5)
        .map(|i| {
            json!({"topic": "Math", "subtopic": "Primes", "difficulty": "easy", "translations": [
                {"language": "en", "question": format!("Which number is prime? ({i})"), "answers": ["4", "6", "8", "9"], "correct_answer": "7"},
                {"language": "ru", "question": format!("Какое число простое? ({i})"), "answers": ["4", "6", "8", "9"], "correct_answer": "7"}
            ]})
        })
        .collect();
    import(&p, &admin.token, &json!({ "tasks": tasks })).await.ok();
    let conn = p.db.connection().await.unwrap();
    let rows = conn
        .query(
            "SELECT en.task_id, en.options, ru.options FROM task_translations en
             JOIN task_translations ru ON ru.task_id = en.task_id AND ru.language = 'ru'
             WHERE en.language = 'en' AND en.options <> ru.options ORDER BY en.task_id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (task_id, en, ru): (i64, Vec<String>, Vec<String>) = (rows[0].get(0), rows[0].get(1), rows[0].get(2));
    let picked = (0..ru.len()).find(|i| ru[*i] != "7" && en[*i] != ru[*i]).expect("a wrong option placed differently");

    let a = player(&p, 16_001, "Alice").await; // profile language: en
    answer(&p, &a.token, task_id, &json!({"option_index": picked, "language": "ru"})).await.ok();
    let subtopic = count(&p, &format!("SELECT subtopic_id FROM tasks WHERE id = {task_id}")).await;
    let fed = feed(&p, Some(&a), subtopic).await.ok();
    let item = fed["tasks"].as_array().unwrap().iter().find(|t| t["id"] == task_id).unwrap().clone();
    // Read in English, the answer is there, but no English option is marked: the Russian index would mark
    // another option than the one chosen.
    assert_eq!(item["your_answer"]["answered_in"], "ru", "{item}");
    assert_eq!(item["your_answer"]["chosen_index"], Json::Null, "chose {:?} in ru: {item}", ru[picked]);
    // Read in Russian, the option chosen is marked where it was.
    let fed = get(&format!("/api/v1/subtopics/{subtopic}/tasks"))
        .param("subtopic_id", subtopic)
        .query("lang", "ru")
        .bearer(&a.token)
        .send(&p, catalogue::task_feed)
        .await
        .ok();
    let item = fed["tasks"].as_array().unwrap().iter().find(|t| t["id"] == task_id).unwrap().clone();
    assert_eq!(item["your_answer"]["chosen_index"], picked, "{item}");
    assert_eq!(item["your_answer"]["answered_in"], "ru", "{item}");
}

// ===============================================================================================================
// §2 Import: identity, defaults and text PostgreSQL cannot store (issue 17)
// ===============================================================================================================

/// A task without a translation group, its translations in the order of `languages` (each of en, ru, de).
fn task_in_languages(topic: &str, languages: &[&str]) -> Json {
    let translations: Vec<Json> = languages
        .iter()
        .map(|language| {
            let question = match *language {
                "en" => "What does `len(\"héllo\")` return in Python?",
                "ru" => "Что вернёт `len(\"héllo\")` в Python?",
                "de" => "Was liefert `len(\"héllo\")` in Python?",
                other => panic!("no question in {other}"),
            };
            json!({"language": language, "question": question, "answers": ["6", "error"], "correct_answer": "5"})
        })
        .collect();
    json!({"topic": topic, "subtopic": "Strings", "difficulty": "easy", "translations": translations})
}

fn statuses(report: &Json) -> Vec<String> {
    report["tasks"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn importing_a_task_again_with_its_translations_reordered_or_a_new_one_first_creates_nothing_new() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let first = import(&p, &admin.token, &json!({"tasks": [task_in_languages("Python", &["en", "ru"])]})).await.ok();
    assert_eq!(statuses(&first), ["created"], "{first}");
    let task_id = first["tasks"][0]["task_id"].clone();
    let before = content_counts(&p).await;
    assert_eq!(before, [1, 1, 1, 2], "topics, subtopics, tasks, translations");

    // The same task, its translations swapped: it is known by either of them.
    let swapped = import(&p, &admin.token, &json!({"tasks": [task_in_languages("Python", &["ru", "en"])]})).await.ok();
    assert_eq!((&swapped["created"], &swapped["existing"]), (&json!(0), &json!(1)), "{swapped}");
    assert_eq!(swapped["tasks"][0]["task_id"], task_id);
    assert!(swapped["tasks"][0].get("translations_added").is_none(), "{swapped}");
    assert_eq!(content_counts(&p).await, before);

    // A third translation put first: the task is still known, and the new language is added to it, as a re-import
    // with a new language always did.
    let more =
        import(&p, &admin.token, &json!({"tasks": [task_in_languages("Python", &["de", "ru", "en"])]})).await.ok();
    assert_eq!((&more["created"], &more["existing"]), (&json!(0), &json!(1)), "{more}");
    assert_eq!(more["tasks"][0]["task_id"], task_id);
    assert_eq!(more["tasks"][0]["translations_added"], json!(["de"]), "{more}");
    assert_eq!(content_counts(&p).await, [1, 1, 1, 3]);

    // The added translation identifies the task from now on, alone as well.
    let german = import(&p, &admin.token, &json!({"tasks": [task_in_languages("Python", &["de"])]})).await.ok();
    assert_eq!(
        (&german["tasks"][0]["status"], &german["tasks"][0]["task_id"]),
        (&json!("exists"), &task_id),
        "{german}"
    );
    assert!(german["tasks"][0].get("translations_added").is_none(), "{german}");
    assert_eq!(content_counts(&p).await, [1, 1, 1, 3]);

    // The identity is scoped by topic: the same question under another topic is another task.
    let elsewhere = import(&p, &admin.token, &json!({"tasks": [task_in_languages("Strings", &["en"])]})).await.ok();
    assert_eq!(statuses(&elsewhere), ["created"], "{elsewhere}");
    assert_ne!(elsewhere["tasks"][0]["task_id"], task_id);
    assert_eq!(content_counts(&p).await, [2, 2, 2, 4]);
}

#[tokio::test]
async fn importing_translations_that_match_two_known_tasks_adds_none_to_the_wrong_one_and_says_so() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    // Two tasks of one topic, one in English and one in Russian (the banks never tied them together).
    let first = import(
        &p,
        &admin.token,
        &json!({"tasks": [task_in_languages("Python", &["en"]), task_in_languages("Python", &["ru"])]}),
    )
    .await
    .ok();
    assert_eq!(statuses(&first), ["created", "created"], "{first}");
    let (en_task, ru_task) = (first["tasks"][0]["task_id"].clone(), first["tasks"][1]["task_id"].clone());

    // A bank that has both as one task: it is the older of the two, and the Russian translation stays the other's.
    let both = import(&p, &admin.token, &json!({"tasks": [task_in_languages("Python", &["ru", "en"])]})).await.ok();
    let entry = &both["tasks"][0];
    assert_eq!((&entry["status"], &entry["task_id"]), (&json!("exists"), &en_task), "{both}");
    assert!(entry.get("translations_added").is_none(), "{both}");
    assert_eq!(
        entry["warnings"],
        json!({"translations[0]": format!("not added: it is the 'ru' translation of task {ru_task}")}),
        "{both}"
    );
    assert_eq!(content_counts(&p).await, [1, 1, 2, 2], "nothing was copied between the two tasks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_imports_of_one_task_in_different_translation_orders_create_it_once() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    // The topic and subtopic exist already, so neither import waits for the other to create them.
    import(&p, &admin.token, &json!({"tasks": [task_json("Python", "Strings", "easy", "Another question")]}))
        .await
        .ok();
    let other_instance = Platform::new(p.config.clone()).await.unwrap();

    // Both imports look the task up before either inserts it: the table is held from a third connection until both
    // wait at their insert, the interleaving two Lambda instances may produce.
    let (lock, connection) = tokio_postgres::connect(&p.settings["DATABASE_URL"], tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    lock.batch_execute("BEGIN; LOCK TABLE tasks IN EXCLUSIVE MODE").await.unwrap();
    let forward = json!({"tasks": [task_in_languages("Python", &["en", "ru"])]});
    let backward = json!({"tasks": [task_in_languages("Python", &["ru", "en"])]});
    let release = async {
        let started = Instant::now();
        loop {
            let waiting: i64 = lock
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'tasks'::regclass AND NOT granted
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if waiting >= 2 || started.elapsed() > Duration::from_secs(10) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lock.batch_execute("COMMIT").await.unwrap();
    };
    let both = async {
        tokio::join!(import(&p, &admin.token, &forward), import(&other_instance, &admin.token, &backward), release)
    };
    let (a, b, ()) =
        tokio::time::timeout(Duration::from_secs(30), both).await.expect("both imports answer within 30 s");
    let (a, b) = (a.ok(), b.ok());

    let mut outcomes = [statuses(&a).remove(0), statuses(&b).remove(0)];
    outcomes.sort();
    assert_eq!(outcomes, ["created", "exists"], "{a} {b}");
    assert_eq!(a["tasks"][0]["task_id"], b["tasks"][0]["task_id"], "both name the one task");
    assert_eq!(content_counts(&p).await, [1, 1, 2, 3], "topics, subtopics, tasks, translations");
    assert_eq!(count(&p, "SELECT count(*) FROM task_question_keys").await, 3, "the losing copy left no key behind");
}

#[tokio::test]
async fn importing_tasks_without_a_difficulty_makes_them_medium_and_says_so_while_a_wrong_one_is_rejected() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let mut absent = task_json("Swift", "Optionals", "easy", "What does `nil ?? 3` evaluate to?");
    absent.as_object_mut().unwrap().remove("difficulty");
    let mut as_null = task_json("Swift", "Optionals", "easy", "Can a `let` constant be reassigned?");
    as_null["difficulty"] = Json::Null;
    let bank = json!({"tasks": [absent, as_null, task_json("Swift", "Optionals", "extreme", "Is `Int?` an enum?"), task_json("Swift", "Optionals", "hard", "What is `Never`?")]});
    let report = import(&p, &admin.token, &bank).await.ok();
    assert_eq!(statuses(&report), ["created", "created", "rejected", "created"], "{report}");
    let missing = json!({"difficulty": "missing; imported as medium"});
    assert_eq!((&report["tasks"][0]["warnings"], &report["tasks"][1]["warnings"]), (&missing, &missing), "{report}");
    assert!(report["tasks"][3].get("warnings").is_none(), "a task with its difficulty has no warning: {report}");
    assert_eq!(report["tasks"][2]["reasons"], json!({"difficulty": "must be easy, medium or hard, not 'extreme'"}));
    let difficulties: Vec<String> = stored_tasks(&p).await.into_iter().map(|t| t.difficulty).collect();
    assert_eq!(difficulties, ["medium", "medium", "hard"]);

    // Imported again, the tasks exist, and the report still says what their difficulty was taken as.
    let again = import(&p, &admin.token, &bank).await.ok();
    assert_eq!(statuses(&again), ["exists", "exists", "rejected", "exists"], "{again}");
    assert_eq!(again["tasks"][0]["warnings"], missing);
}

#[tokio::test]
async fn importing_text_with_a_nul_character_anywhere_rejects_that_task_at_its_path_and_imports_the_rest() {
    let p = platform().await;
    let admin = admin_user(&p).await;
    let nul = "bad\u{0}text";
    let mut tasks = vec![task_json("Python", "Basics", "easy", "Good question")];
    let mut paths = Vec::new();
    let mut with = |path: &str, set: &dyn Fn(&mut Json)| {
        let mut task = task_json("Python", "Basics", "easy", &format!("Question with a NUL at {path}"));
        task["translations"][0]["external_link"] = json!("https://docs.python.org/3/");
        set(&mut task);
        tasks.push(task);
        paths.push(path.to_string());
    };
    with("topic", &|t| t["topic"] = json!(nul));
    with("subtopic", &|t| t["subtopic"] = json!(nul));
    with("translation_group_id", &|t| t["translation_group_id"] = json!(nul));
    with("translations[0].question", &|t| t["translations"][0]["question"] = json!(nul));
    with("translations[0].answers[2]", &|t| t["translations"][0]["answers"][2] = json!(nul));
    with("translations[0].correct_answer", &|t| t["translations"][0]["correct_answer"] = json!(nul));
    with("translations[0].explanation", &|t| t["translations"][0]["explanation"] = json!(nul));
    with("translations[0].external_link", &|t| {
        t["translations"][0]["external_link"] = json!(format!("https://x.example/{nul}"))
    });
    with("image_url", &|t| t["image_url"] = json!(format!("https://x.example/{nul}.png")));
    tasks.push(task_json("Python", "Basics", "easy", "Another good question"));

    let reply = import(&p, &admin.token, &json!({ "tasks": tasks })).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let report = reply.body;
    assert_eq!((&report["created"], &report["rejected"]), (&json!(2), &json!(paths.len())), "{report}");
    for (k, path) in paths.iter().enumerate() {
        let entry = &report["tasks"][k + 1];
        assert_eq!(entry["status"], "rejected", "{path}: {entry}");
        assert_eq!(entry["reasons"], json!({ path.as_str(): "must not contain NUL characters" }), "{path}");
    }
    let stored: Vec<String> = stored_tasks(&p).await.into_iter().map(|t| t.question).collect();
    assert_eq!(stored, ["Good question", "Another good question"]);
}
