//! Fault drills against the running local cloud (`infra/cloud start`): each breaks one part on purpose, checks
//! what a user sees meanwhile, and proves what holds afterwards. They stop and start the local services, so they
//! run one at a time (a lock), and each puts back what it broke, even when it fails (a guard).
//!
//! 1. Redis stopped under load: every answer stays correct (from PostgreSQL), no 5xx; the hit rate recovers.
//! 2. PostgreSQL stopped: routes answer 503 with `Retry-After` and the JSON error at once; a job that ran meanwhile
//!    is retried by the queue and completes after PostgreSQL returns.
//! 3. The AWS endpoint stalled (the process paused, so calls hang rather than fail) while contact messages
//!    arrive: each is still answered 202 and stored, and each is mailed exactly once after the sweep.
//! 4. Jobs delivered twice (the same message body, so the same job id): one effect each, through the local
//!    cloud for `debug`, `send-email` and the contact mail. The upload and Open Graph jobs' second deliveries
//!    are proven against their handlers (`tests/media.rs`, `tests/blog.rs`).
//! 5. A poison message in a batch of ten: the nine complete once; it reaches the dead-letter queue after
//!    `maxReceiveCount`; `queue-inspect` shows it; `redrive` brings it back.
//! 6. A function instance killed mid-job: the message comes back and the job completes once.
//! 7. Redis restarted, then at once an answer and a read: the player's own statistics and topic list show the
//!    answer, though the answering instance's connection broke with the restart while other instances had
//!    already refilled the cache.

use std::process::Command;
use std::time::{Duration, Instant};

use platform::jobs::{JobEnvelope, JobKind};
use serde_json::{Value, json};
use support::cloud::{
    call, database, eventually, fire, fresh_loopback_client, fresh_telegram_id, gateway, invoke, queue_url, recorded,
    sign_in, sqs,
};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

fn services(args: &[&str]) {
    let status =
        Command::new(support::repo_root().join("infra/services")).args(args).status().expect("infra/services runs");
    assert!(status.success(), "infra/services {args:?} failed");
}

/// Starts whatever is down when dropped: a failed drill leaves the services as it found them.
struct Restore;
impl Drop for Restore {
    fn drop(&mut self) {
        let _ = Command::new(support::repo_root().join("infra/services")).arg("start").status();
    }
}

async fn send(queue: &str, body: &str) {
    sqs().await.send_message().queue_url(queue_url(queue)).message_body(body).send().await.unwrap();
}

/// Empties a queue (`PurgeQueue` may run once a minute only).
async fn drain(queue: &str) {
    let sqs = sqs().await;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url(queue))
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return;
        }
        for m in messages {
            sqs.delete_message()
                .queue_url(queue_url(queue))
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

async fn depth(queue: &str) -> u64 {
    let attributes = sqs()
        .await
        .get_queue_attributes()
        .queue_url(queue_url(queue))
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let get =
        |n: aws_sdk_sqs::types::QueueAttributeName| attributes.get(&n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        + get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}

/// The metric records (EMF lines) a function wrote at or after `since_ms`.
fn metric_records(function: &str, since_ms: i64) -> Vec<Value> {
    let log = support::repo_root().join(format!(".local/functions/{function}.log"));
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("\"_aws\""))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["_aws"]["Timestamp"].as_i64().unwrap_or(0) >= since_ms)
        .collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn drill_1_redis_stopped_under_load_answers_stay_correct_and_the_hit_rate_recovers() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _restore = Restore;
    let url = format!("{}/api/v1/topics", gateway());
    let client = reqwest::Client::new();
    let expected: Value = client.get(&url).send().await.unwrap().json().await.unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let response = client.get(&url).send().await.unwrap();
                let status = response.status().as_u16();
                answers.push((status, response.json::<Value>().await.unwrap_or(Value::Null)));
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    services(&["stop", "redis"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    services(&["start"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = Vec::new();
    for task in load {
        answers.extend(task.await.unwrap());
    }
    assert!(answers.len() > 50, "the load ran: {} answers", answers.len());
    for (status, body) in &answers {
        assert_eq!(*status, 200, "no error while Redis was away: {body}");
        assert_eq!(body, &expected, "every answer is the same, correct list");
    }

    // Back: once each instance's connection has reconnected and a miss has refilled the cache, reads hit again.
    let back = Instant::now();
    let recovered = eventually(Duration::from_secs(30), || async {
        let since = now_ms();
        client.get(&url).send().await.unwrap();
        metric_records(shared::functions::LIST_TOPICS.name, since)
            .iter()
            .any(|r| r["CacheHits"].as_f64().unwrap_or(0.0) > 0.0)
    })
    .await;
    assert!(recovered, "reads hit the cache again within 30 s");
    eprintln!(
        "drill 1: {} answers while Redis stopped and started, all 200 and correct; first cache hit {:?} after it was back",
        answers.len(),
        back.elapsed()
    );
    let since = now_ms();
    for _ in 0..40 {
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    }
    let records = metric_records(shared::functions::LIST_TOPICS.name, since);
    let hits: f64 = records.iter().map(|r| r["CacheHits"].as_f64().unwrap_or(0.0)).sum();
    let misses: f64 = records.iter().map(|r| r["CacheMisses"].as_f64().unwrap_or(0.0)).sum();
    assert!(records.len() >= 40, "one metric record per request ({})", records.len());
    assert!(hits / (hits + misses) >= 0.9, "the hit rate recovered: {hits} hits, {misses} misses");
}

#[tokio::test]
async fn drill_2_postgres_stopped_routes_answer_503_at_once_and_a_job_completes_after_it_returns() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _restore = Restore;
    let db = database().await;
    drop(db); // connections of the drill itself must not outlive the stop
    services(&["stop", "postgres"]);

    let client = fresh_loopback_client();
    let calls = [
        client
            .post(format!("{}/api/v1/contact", gateway()))
            .json(&json!({"name": "Drill", "email": "drill@example.com", "message": "Is anyone there?"})),
        client.get(format!("{}/api/v1/topics/{}", gateway(), 900_000 + rand_small())),
    ];
    for call in calls {
        let started = Instant::now();
        let response = call.send().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "answered at once, not hung: {:?}", started.elapsed());
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("retry-after").is_some(), "a Retry-After header");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string() || body["code"].is_string(), "a JSON error body: {body}");
    }

    // A job arrives while the database is away: its first attempt fails, and the queue delivers it again.
    let job = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), json!({"drill": 2}));
    let since = now_ms();
    send("debug", &serde_json::to_string(&job).unwrap()).await;
    let failed_once = eventually(Duration::from_secs(10), || async {
        metric_records(shared::functions::DEBUG.name, since)
            .iter()
            .any(|r| r["request_id"].is_string() && r["JobsRetried"] == 1)
    })
    .await;
    assert!(failed_once, "the job's first attempt failed and was left for a retry");
    services(&["start"]);
    let db = database().await;
    assert!(
        eventually(Duration::from_secs(20), || async { recorded(&db, job.id).await == 1 }).await,
        "the job completed after PostgreSQL returned"
    );
}

fn rand_small() -> u32 {
    uuid::Uuid::new_v4().as_u128() as u32 % 90_000
}

/// Pauses the local AWS endpoint's process (calls to it hang, as to an endpoint that accepts and never answers);
/// resumes it when dropped.
struct Paused(String);
impl Paused {
    fn endpoint() -> Self {
        let pid =
            std::fs::read_to_string(support::repo_root().join(".local/aws.pid")).expect("the local endpoint's pid");
        let pid = pid.trim().to_string();
        assert!(Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
        Paused(pid)
    }
}
impl Drop for Paused {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[tokio::test]
async fn drill_3_with_the_aws_endpoint_stalled_contact_messages_are_accepted_and_mailed_once_later() {
    let _one = ONE_AT_A_TIME.lock().await;
    let settings = support::local_settings();
    let names: Vec<String> = (0..3).map(|i| format!("Drill3 visitor {i} {}", uuid::Uuid::new_v4().simple())).collect();
    {
        let _paused = Paused::endpoint();
        for name in &names {
            let started = Instant::now();
            let response = fresh_loopback_client()
                .post(format!("{}/api/v1/contact", gateway()))
                .json(&json!({"name": name, "email": "visitor@example.com", "message": "Sent while the bus was away."}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 202, "accepted although the event could not leave");
            assert!(started.elapsed() < Duration::from_secs(5), "within the publish timeout: {:?}", started.elapsed());
        }
    }
    let db = database().await;
    let unpublished: i64 = db
        .query_one("SELECT count(*) FROM contact_messages WHERE name = ANY($1) AND published_at IS NULL", &[&names])
        .await
        .unwrap()
        .get(0);
    assert_eq!(unpublished, 3, "all three stored, none published yet");

    // The sweep publishes what did not leave (its grace period is a minute; the drill moves the messages back).
    db.execute(
        "UPDATE contact_messages SET created_at = created_at - interval '10 minutes' WHERE name = ANY($1)",
        &[&names],
    )
    .await
    .unwrap();
    let swept = fire(shared::functions::REPUBLISH_EVENTS.name).await;
    assert!(swept["result"]["contact_messages"]["published"].as_u64().unwrap_or(0) >= 3, "{swept}");
    for name in &names {
        let mailed =
            eventually(Duration::from_secs(40), || async { support::sent_mail(&settings, name).await.len() == 1 })
                .await;
        assert!(mailed, "{name} mailed");
    }
    let again = fire(shared::functions::REPUBLISH_EVENTS.name).await;
    assert_eq!(again["result"]["contact_messages"]["published"], 0, "nothing is published twice: {again}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    for name in &names {
        assert_eq!(support::sent_mail(&settings, name).await.len(), 1, "{name} mailed exactly once");
    }
}

#[tokio::test]
async fn drill_4_a_job_delivered_twice_has_one_effect() {
    let _one = ONE_AT_A_TIME.lock().await;
    let settings = support::local_settings();
    let db = database().await;

    let debug =
        serde_json::to_string(&JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), json!({"drill": 4}))).unwrap();
    let subject = format!("Drill4 mail {}", uuid::Uuid::new_v4().simple());
    let mail = JobEnvelope::raw(
        JobKind::SendEmail,
        uuid::Uuid::new_v4(),
        json!({"to": ["drill@example.com"], "subject": subject, "text": "Once."}),
    );
    let mail = serde_json::to_string(&mail).unwrap();
    for _ in 0..2 {
        send("debug", &debug).await;
        send("mail", &mail).await;
    }
    let debug_id = JobEnvelope::parse(&debug).unwrap().id;
    assert!(eventually(Duration::from_secs(20), || async { recorded(&db, debug_id).await == 1 }).await);
    assert!(
        eventually(Duration::from_secs(20), || async { support::sent_mail(&settings, &subject).await.len() == 1 })
            .await
    );

    // The contact mail: the same `contact.received` event twice.
    let name = format!("Drill4 visitor {}", uuid::Uuid::new_v4().simple());
    let response = fresh_loopback_client()
        .post(format!("{}/api/v1/contact", gateway()))
        .json(&json!({"name": name, "email": "visitor@example.com", "message": "Delivered twice, mailed once."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert!(
        eventually(Duration::from_secs(30), || async { support::sent_mail(&settings, &name).await.len() == 1 }).await
    );
    let id: uuid::Uuid =
        db.query_one("SELECT id FROM contact_messages WHERE name = $1", &[&name]).await.unwrap().get(0);
    let event = json!({
        "version": "0", "id": uuid::Uuid::new_v4(), "detail-type": "contact.received", "source": platform::events::SOURCE,
        "account": "123456789012", "time": chrono::Utc::now(), "region": "us-east-1", "resources": [],
        "detail": {"id": id, "occurred_at": chrono::Utc::now(), "data": {}}
    });
    send("contact-mail", &event.to_string()).await;

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(recorded(&db, debug_id).await, 1, "the debug job recorded once");
    assert_eq!(support::sent_mail(&settings, &subject).await.len(), 1, "the mail job sent once");
    assert_eq!(support::sent_mail(&settings, &name).await.len(), 1, "the contact message mailed once");
}

#[tokio::test]
async fn drill_5_a_poison_message_in_a_batch_of_ten_is_dead_lettered_shown_and_redriven() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sqs = sqs().await;
    drain("debug-dlq").await;
    let db = database().await;
    let good: Vec<JobEnvelope> =
        (0..9).map(|n| JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), json!({"drill": 5, "n": n}))).collect();
    let mut entries: Vec<_> = good
        .iter()
        .enumerate()
        .map(|(i, job)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(serde_json::to_string(job).unwrap())
                .build()
                .unwrap()
        })
        .collect();
    let marker = format!("poison {}", uuid::Uuid::new_v4());
    entries.insert(
        4,
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder().id("poison").message_body(&marker).build().unwrap(),
    );
    sqs.send_message_batch().queue_url(queue_url("debug")).set_entries(Some(entries)).send().await.unwrap();

    for job in &good {
        assert!(
            eventually(Duration::from_secs(20), || async { recorded(&db, job.id).await == 1 }).await,
            "each of the nine ran"
        );
    }
    assert!(
        eventually(Duration::from_secs(30), || async { depth("debug-dlq").await == 1 }).await,
        "the poison message was dead-lettered"
    );

    let inspection = invoke(shared::functions::QUEUE_INSPECT.name, json!({"action": "inspect"})).await;
    let debug = inspection["result"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "quiz-debug")
        .cloned()
        .unwrap();
    assert_eq!(debug["dead_letter"]["depth"], 1, "{inspection}");
    assert!(debug["dead_letter"]["oldest_age_seconds"].is_number(), "{inspection}");

    let redrive = invoke(shared::functions::QUEUE_INSPECT.name, json!({"action": "redrive", "queue": "debug"})).await;
    assert_eq!(redrive["result"]["moved"], 1, "{redrive}");
    assert_eq!(redrive["result"]["remaining"], 0, "{redrive}");
    // Unfixed, it fails three more times and is back in the dead-letter queue; the drill then removes it.
    assert!(
        eventually(Duration::from_secs(30), || async { depth("debug-dlq").await == 1 }).await,
        "redriven, failed again, dead-lettered again"
    );
    drain("debug-dlq").await;
    for job in &good {
        assert_eq!(recorded(&db, job.id).await, 1, "and none of the nine ran twice");
    }
}

#[tokio::test]
async fn drill_6_an_instance_killed_mid_job_leaves_the_message_to_complete_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = database().await;
    let job = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), json!({"drill": 6, "hold_ms": 3000}));
    send("debug", &serde_json::to_string(&job).unwrap()).await;
    let log = support::repo_root().join(".local/functions/debug.log");
    let id = job.id.to_string();
    let started = eventually(Duration::from_secs(15), || async {
        std::fs::read_to_string(&log).unwrap_or_default().lines().any(|l| l.contains(&id) && l.contains("job received"))
    })
    .await;
    assert!(started, "the job started");
    let binary = support::repo_root().join("target/local/debug");
    let killed = Command::new("pkill").args(["-9", "-f", &format!("^{}$", binary.display())]).status().unwrap();
    assert!(killed.success(), "an instance of debug was killed");
    assert_eq!(recorded(&db, job.id).await, 0, "killed before it recorded anything");
    assert!(
        eventually(Duration::from_secs(30), || async { recorded(&db, job.id).await == 1 }).await,
        "delivered again, completed"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(recorded(&db, job.id).await, 1, "once");
}

#[tokio::test]
async fn drill_7_after_a_redis_restart_a_players_own_next_read_shows_their_answer() {
    use reqwest::Method;
    let _one = ONE_AT_A_TIME.lock().await;
    let _restore = Restore;
    let settings = support::local_settings();
    let admin_id: i64 = settings["ADMIN_TELEGRAM_IDS"].split(',').next().unwrap().trim().parse().unwrap();
    let admin = sign_in(admin_id).await;
    let topic = format!("Drill seven {}", uuid::Uuid::new_v4().simple());
    let bank = json!({"tasks": [{"topic": topic, "subtopic": "Basics", "difficulty": "easy",
        "translations": [{"language": "en", "question": "Two plus two?", "answers": ["3", "4"], "correct_answer": "4"}]}]});
    let (status, report) = call(Method::POST, "/api/v1/admin/tasks/import", Some(&admin), Some(bank)).await;
    assert_eq!(status, 200, "{report}");
    let player = sign_in(fresh_telegram_id()).await;
    let topics_path = format!("/api/v1/topics?lang=en&search={}", &topic[12..]);
    let (_, topics) = call(Method::GET, &topics_path, Some(&player), None).await;
    let topic_id = topics["topics"][0]["id"].as_i64().unwrap();
    let (_, subtopics) =
        call(Method::GET, &format!("/api/v1/topics/{topic_id}/subtopics?lang=en"), Some(&player), None).await;
    let (_, feed) = call(
        Method::GET,
        &format!("/api/v1/subtopics/{}/tasks?lang=en", subtopics["subtopics"][0]["id"]),
        Some(&player),
        None,
    )
    .await;
    let task_id = feed["tasks"][0]["id"].as_i64().unwrap();

    services(&["stop", "redis"]);
    services(&["start"]);
    // Other instances read the restarted Redis and cache the player's state from before the answer: reads until
    // both statistics and the topic list are served from the cache again.
    let cached = eventually(Duration::from_secs(20), || async {
        let since = now_ms();
        let (_, stats) = call(Method::GET, "/api/v1/me/stats", Some(&player), None).await;
        let (_, listed) = call(Method::GET, &topics_path, Some(&player), None).await;
        assert_eq!((stats["answers"].as_i64(), listed["topics"][0]["answered_count"].as_i64()), (Some(0), Some(0)));
        let hit = |f: &str| metric_records(f, since).iter().any(|r| r["CacheHits"].as_f64().unwrap_or(0.0) > 0.0);
        hit(shared::functions::MY_STATS.name) && hit(shared::functions::LIST_TOPICS.name)
    })
    .await;
    assert!(cached, "statistics and topics are served from the restarted cache");

    // The answering instances have not talked to Redis since the restart: their connections are the broken ones.
    let (status, outcome) =
        call(Method::POST, &format!("/api/v1/tasks/{task_id}/answer"), Some(&player), Some(json!({"option_index": 0})))
            .await;
    assert_eq!(status, 200, "{outcome}");
    let (_, stats) = call(Method::GET, "/api/v1/me/stats", Some(&player), None).await;
    let (_, listed) = call(Method::GET, &topics_path, Some(&player), None).await;
    assert_eq!(stats["answers"], 1, "the player's own next read shows the answer: {stats}");
    assert_eq!(listed["topics"][0]["answered_count"], 1, "and so does the topic list: {listed}");
}
