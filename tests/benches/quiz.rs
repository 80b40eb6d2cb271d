//! Warm latency of the two hottest quiz paths in process, against the real local PostgreSQL and Redis, with the
//! SQL statements each one runs. Run: `infra/bench quiz`.
//!
//! - the topic list, cache hit, for a signed-in player (session, profile, topics and their answered counts all
//!   come from Redis);
//! - a subtopic's task feed, first page, for a signed-in player who has answered none of it (session, profile and
//!   the feed from Redis; one SQL statement reads the player's answers to the page);
//! - an answer submission (session, profile and task from Redis; one SQL statement records the answer; one
//!   Redis round trip forgets the player's statistics and moves them on the leaderboard).

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Method};
use platform::Platform;
use platform::http::{ApiRequest, ApiResponse};
use platform::telemetry;
use shared::identity::telegram::{TelegramUser, sign_init_data};

const TASKS: usize = 200;

fn bank() -> Vec<u8> {
    let tasks: Vec<serde_json::Value> = (0..TASKS)
        .map(|i| {
            let difficulty = ["easy", "medium", "hard"][i % 3];
            serde_json::json!({
                "topic": format!("Bench topic {}", i % 5),
                "subtopic": "Basics",
                "difficulty": difficulty,
                "translations": [{"language": "en", "question": format!("Bench question {i}: what is {i} + 1?"),
                                   "answers": [format!("{}", i), format!("{}", i + 1), format!("{}", i + 2)],
                                   "correct_answer": format!("{}", i + 1)}]
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "tasks": tasks })).unwrap()
}

fn authorised(method: Method, path: &str, token: &str) -> ApiRequest {
    let mut request = ApiRequest::new(method, path);
    request.headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    request
}

async fn sign_in(platform: &Platform, telegram_id: i64) -> String {
    let user = TelegramUser {
        id: telegram_id,
        first_name: "Bench".into(),
        last_name: None,
        username: None,
        photo_url: None,
        language_code: Some("en".into()),
    };
    let init_data = sign_init_data(&user, chrono::Utc::now(), &platform.config.identity.telegram_bot_token);
    let mut request = ApiRequest::new(Method::POST, "/api/v1/auth/telegram/mini-app");
    request.set_json_body(serde_json::to_vec(&serde_json::json!({ "init_data": init_data })).unwrap());
    let response = shared::identity::sign_in_mini_app(platform, request).await.unwrap();
    json(&response)["token"].as_str().unwrap().to_string()
}

fn json(response: &ApiResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body).unwrap()
}

/// Runs one request in a telemetry scope and prints the statements and cache hits it cost.
async fn report_cost(name: &str, work: impl std::future::Future<Output = ApiResponse>) {
    let (response, summary) = telemetry::scope(telemetry::Trigger::Http, name, "bench", async {
        Ok::<_, platform::http::ApiError>(work.await)
    })
    .await;
    let status = response.map(|r| r.status.as_u16()).unwrap_or(0);
    println!(
        "{name}: status {status}, {} SQL statement(s), {} cache hit(s), {} miss(es)",
        summary.counters.sql_statements, summary.counters.cache_hits, summary.counters.cache_misses
    );
}

fn quiz_paths(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let platform = runtime.block_on(support::platform());
    let admin_id = platform.config.identity.admin_telegram_ids[0];
    let (token, task_ids) = runtime.block_on(async {
        let admin = sign_in(&platform, admin_id).await;
        let mut import = authorised(Method::POST, "/api/v1/admin/tasks/import", &admin);
        import.set_json_body(bank());
        let report = json(&shared::quiz::admin::import_tasks(&platform, import).await.unwrap());
        let ids: Vec<i64> =
            report["tasks"].as_array().unwrap().iter().map(|t| t["task_id"].as_i64().unwrap()).collect();
        (sign_in(&platform, 100_000_777).await, ids)
    });

    let topics = || shared::quiz::catalogue::list_topics(&platform, authorised(Method::GET, "/api/v1/topics", &token));
    runtime.block_on(async {
        topics().await.unwrap(); // fills the caches
        report_cost("topic list (cache hit)", async { topics().await.unwrap() }).await;
    });
    c.bench_function("topic list, signed in, cache hit (in process)", |b| {
        b.to_async(&runtime).iter(|| async { assert_eq!(topics().await.unwrap().status, 200) })
    });

    let subtopic_id: i64 = runtime.block_on(async {
        let conn = platform.db.connection().await.unwrap();
        conn.query_one("SELECT min(id) AS id FROM subtopics", &[]).await.unwrap().get("id")
    });
    let feed = || {
        let mut request = authorised(Method::GET, &format!("/api/v1/subtopics/{subtopic_id}/tasks"), &token);
        request.path_params.insert("subtopic_id".into(), subtopic_id.to_string());
        shared::quiz::catalogue::task_feed(&platform, request)
    };
    runtime.block_on(async {
        feed().await.unwrap(); // fills the feed's cache entry
        report_cost("task feed (cache hit)", async { feed().await.unwrap() }).await;
    });
    c.bench_function("task feed, signed in, first page (in process)", |b| {
        b.to_async(&runtime).iter(|| async { assert_eq!(feed().await.unwrap().status, 200) })
    });

    let answer = |task_id: i64| {
        let mut request = authorised(Method::POST, &format!("/api/v1/tasks/{task_id}/answer"), &token);
        request.path_params.insert("task_id".into(), task_id.to_string());
        request.set_json_body(br#"{"option_index": 1}"#.to_vec());
        shared::quiz::answers::submit_answer(&platform, request)
    };
    runtime.block_on(async {
        answer(task_ids[0]).await.unwrap(); // warms the task's cache entry and the statement
        report_cost("answer submission (first answer)", async { answer(task_ids[1]).await.unwrap() }).await;
        report_cost("answer submission (practice answer)", async { answer(task_ids[1]).await.unwrap() }).await;
    });
    let next = std::sync::atomic::AtomicUsize::new(2);
    c.bench_function("answer submission, warm (in process)", |b| {
        b.to_async(&runtime).iter(|| async {
            // First answers while the bank lasts, then practice answers: the same one statement either way.
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % task_ids.len();
            assert_eq!(answer(task_ids[i]).await.unwrap().status, 200)
        })
    });
}

criterion_group!(benches, quiz_paths);
criterion_main!(benches);
