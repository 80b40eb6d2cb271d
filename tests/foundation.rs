//! The foundation slice against the real services: health, the debug job through a real queue, migrations,
//! the expired-session clean-up, the cache's fall-back, storage and mail.

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use http::Method;
use platform::http::ApiRequest;
use platform::jobs::{JobEnvelope, JobKind};
use platform::telemetry;
use platform::trigger::sqs::process_batch;
use shared::debug_job::{self, DebugOutcome};
use shared::{health, migrations, sessions};
use support::{platform, platform_with};

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("a JSON body")
}

#[tokio::test]
async fn health_is_200_when_postgres_redis_and_the_queue_are_up() {
    let p = platform().await;
    let response = health::route(&p, ApiRequest::new(Method::GET, "/api/v1/health")).await.unwrap();
    let body = json(&response.body);
    assert_eq!(response.status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    for dependency in ["postgres", "redis", "queue"] {
        assert_eq!(body["checks"][dependency]["status"], "up", "{dependency}: {body}");
        assert!(body["checks"][dependency]["latency_ms"].as_f64().unwrap() >= 0.0);
    }
}

#[tokio::test]
async fn health_is_503_naming_redis_when_redis_is_pointed_at_a_closed_port() {
    let p = platform_with(|s| {
        s.insert("REDIS_URL".into(), "redis://127.0.0.1:1/0".into());
    })
    .await;
    let response = health::route(&p, ApiRequest::new(Method::GET, "/api/v1/health")).await.unwrap();
    let body = json(&response.body);
    assert_eq!(response.status, 503, "{body}");
    assert_eq!(response.headers["retry-after"], "5");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["redis"]["status"], "down");
    assert!(body["checks"]["redis"]["error"].is_string());
    assert_eq!(body["checks"]["postgres"]["status"], "up");
}

#[tokio::test]
async fn a_health_checker_reuses_its_report_for_its_max_age_and_says_how_old_it_is() {
    let p = platform().await;
    let checker = health::Checker::new(Duration::from_secs(60));
    let first = checker.report(&p).await;
    assert_eq!(first.age_ms, 0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = checker.report(&p).await;
    assert_eq!(second.checks, first.checks, "the same checks, reused");
    assert!(second.age_ms >= 20);
    let fresh = health::Checker::new(Duration::ZERO);
    assert_eq!(fresh.report(&p).await.age_ms, 0);
    assert_eq!(fresh.report(&p).await.age_ms, 0, "a zero max age checks every time");
}

#[tokio::test]
async fn health_is_503_when_postgres_is_unreachable() {
    let p = platform_with(|s| {
        s.insert("DATABASE_URL".into(), "postgres://quiz@127.0.0.1:1/quiz".into());
    })
    .await;
    let response = health::route(&p, ApiRequest::new(Method::GET, "/api/v1/health")).await.unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(json(&response.body)["checks"]["postgres"]["status"], "down");
}

#[tokio::test]
async fn a_debug_message_from_the_real_queue_is_processed_once_even_when_delivered_twice() {
    let p = platform().await;
    let job = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), serde_json::json!({"hello": "queue"}));
    p.jobs.enqueue(&job).await.expect("enqueue");

    // Receive it twice: a visibility timeout of zero makes the queue deliver the same message again, as SQS's
    // at-least-once delivery may.
    let sqs = p.jobs.sqs();
    let mut deliveries = Vec::new();
    for _ in 0..2 {
        let received = sqs
            .receive_message()
            .queue_url(&p.queue_url)
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let messages = received.messages.unwrap_or_default();
        assert_eq!(messages.len(), 1);
        deliveries.push(messages);
    }
    assert_eq!(deliveries[0][0].message_id(), deliveries[1][0].message_id(), "the same message, twice");

    let mut outcomes = Vec::new();
    for messages in &deliveries {
        let outcome = std::sync::Mutex::new(None);
        let response = process_batch(support::sqs_event(messages), |job| {
            let db = &p.db;
            let outcome = &outcome;
            async move {
                *outcome.lock().unwrap() = Some(debug_job::run(db, &job).await?);
                Ok(())
            }
        })
        .await
        .expect("an SQS event");
        assert!(response.batch_item_failures.is_empty());
        outcomes.push(outcome.into_inner().unwrap().unwrap());
    }
    assert_eq!(outcomes, [DebugOutcome::Recorded, DebugOutcome::AlreadyRecorded]);

    let connection = p.db.connection().await.unwrap();
    let rows = connection.query("SELECT job_id, payload FROM debug_job_runs", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, uuid::Uuid>(0), job.id);
    assert_eq!(rows[0].get::<_, serde_json::Value>(1), serde_json::json!({"hello": "queue"}));
}

#[tokio::test]
async fn a_debug_job_asked_to_fail_is_reported_and_records_nothing() {
    let p = platform().await;
    let good = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), serde_json::json!({"n": 1}));
    let bad = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), serde_json::json!({"fail": "on purpose"}));
    let event = serde_json::json!({"Records": [
        {"messageId": "good", "body": serde_json::to_string(&good).unwrap()},
        {"messageId": "bad", "body": serde_json::to_string(&bad).unwrap()},
    ]});
    let db = &p.db;
    let response = process_batch(event, |job| async move { debug_job::run(db, &job).await.map(|_| ()) }).await.unwrap();
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["bad"]);
    let connection = p.db.connection().await.unwrap();
    let count: i64 = connection.query_one("SELECT count(*) FROM debug_job_runs", &[]).await.unwrap().get(0);
    assert_eq!(count, 1);
}

#[tokio::test]
async fn migrations_applied_twice_change_nothing() {
    let p = platform().await; // already migrated once
    let schema = || async {
        let connection = p.db.connection().await.unwrap();
        let rows = connection
            .query(
                "SELECT table_name, column_name, data_type FROM information_schema.columns
                 WHERE table_schema = 'public' ORDER BY 1, 2",
                &[],
            )
            .await
            .unwrap();
        rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2))).collect::<Vec<_>>()
    };
    let before = schema().await;
    assert!(before.iter().any(|(t, c, _)| t == "sessions" && c == "token_hash"));
    assert!(migrations::apply(&p.db).await.unwrap().is_empty(), "nothing left to apply");
    assert!(migrations::apply(&p.db).await.unwrap().is_empty());
    assert_eq!(schema().await, before);
    let connection = p.db.connection().await.unwrap();
    let recorded: i64 = connection.query_one("SELECT count(*) FROM schema_migrations", &[]).await.unwrap().get(0);
    assert_eq!(recorded as usize, migrations::known().len());

    // A database refinery migrated (a checkout's local one, from before this runner): its record is taken over,
    // and nothing is applied again.
    connection
        .execute(
            "CREATE TABLE refinery_schema_history AS
             SELECT version, name, applied_at::text AS applied_on, '0' AS checksum FROM schema_migrations",
            &[],
        )
        .await
        .unwrap();
    connection.execute("DELETE FROM schema_migrations", &[]).await.unwrap();
    assert!(migrations::apply(&p.db).await.unwrap().is_empty(), "refinery's record is this runner's");
    let recorded: i64 = connection.query_one("SELECT count(*) FROM schema_migrations", &[]).await.unwrap().get(0);
    assert_eq!(recorded as usize, migrations::known().len());
    assert_eq!(
        schema().await.into_iter().filter(|(t, _, _)| t != "refinery_schema_history").collect::<Vec<_>>(),
        before
    );
}

#[tokio::test]
async fn clear_expired_sessions_removes_only_expired_rows_in_batches() {
    let p = platform().await;
    let connection = p.db.connection().await.unwrap();
    let user: i64 =
        connection.query_one("INSERT INTO users (first_name) VALUES ('Ada') RETURNING id", &[]).await.unwrap().get(0);
    // 25 expired, 3 still valid (one expiring in a second, so "now" is not rounded the wrong way).
    connection
        .execute(
            "INSERT INTO sessions (token_hash, user_id, expires_at)
             SELECT sha256(convert_to('expired' || n, 'UTF8')), $1::bigint, now() - make_interval(hours => n) FROM generate_series(1, 25) n
             UNION ALL
             SELECT sha256(convert_to('valid' || n, 'UTF8')), $1::bigint, now() + make_interval(secs => n) FROM generate_series(1, 3) n",
            &[&user],
        )
        .await
        .unwrap();
    drop(connection);

    let cleared = sessions::clear_expired(&p.db, 10).await.unwrap();
    assert_eq!(cleared.deleted, 25);
    assert_eq!(cleared.batches, 3, "batches of 10: 10, 10, 5");

    let connection = p.db.connection().await.unwrap();
    let left = connection.query("SELECT expires_at > now() FROM sessions", &[]).await.unwrap();
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|r| r.get::<_, bool>(0)));
    drop(connection);
    assert_eq!(sessions::clear_expired(&p.db, 10).await.unwrap().deleted, 0);
}

#[tokio::test]
async fn the_cache_counts_hits_and_misses_and_the_loader_answers_when_redis_is_down() {
    let p = platform().await;
    let load = |n: i32| async move { Ok::<_, std::convert::Infallible>(serde_json::json!({"n": n})) };
    let (values, summary) = telemetry::scope(telemetry::Trigger::Invoke, "cache-test", "t1", async {
        let first = p.cache.get_or_load("k", Duration::from_secs(60), || load(1)).await.unwrap();
        let second = p.cache.get_or_load("k", Duration::from_secs(60), || load(2)).await.unwrap();
        Ok::<_, platform::JobError>((first, second))
    })
    .await;
    let (first, second) = values.unwrap();
    assert_eq!(first, serde_json::json!({"n": 1}));
    assert_eq!(second, serde_json::json!({"n": 1}), "the second read is the cached value");
    assert_eq!((summary.counters.cache_hits, summary.counters.cache_misses), (1, 1));
    assert!(p.cache.delete(&["k"]).await);
    assert_eq!(
        p.cache.get_or_load("k", Duration::from_secs(60), || load(3)).await.unwrap(),
        serde_json::json!({"n": 3})
    );

    let down = platform_with(|s| {
        s.insert("REDIS_URL".into(), "redis://127.0.0.1:1/0".into());
    })
    .await;
    for n in 0..3 {
        let value = down.cache.get_or_load("k", Duration::from_secs(60), || load(n)).await.unwrap();
        assert_eq!(value, serde_json::json!({"n": n}), "every read falls through to the loader");
    }
}

#[tokio::test]
async fn statements_are_counted_per_request() {
    let p = platform().await;
    let (_, summary) = telemetry::scope(telemetry::Trigger::Invoke, "count-test", "t2", async {
        let connection = p.db.connection().await?;
        connection.query_one("SELECT 1", &[]).await?;
        connection.execute("SELECT 2", &[]).await?;
        Ok::<_, platform::JobError>(())
    })
    .await;
    assert_eq!(summary.counters.sql_statements, 2);
}

#[tokio::test]
async fn storage_puts_lists_gets_presigns_and_deletes_objects() {
    let p = platform().await;
    p.storage.put("media/avatars/a.txt", b"hello".to_vec(), "text/plain").await.unwrap();
    assert_eq!(p.storage.get("media/avatars/a.txt").await.unwrap().as_deref(), Some(&b"hello"[..]));
    assert_eq!(p.storage.get("media/avatars/missing").await.unwrap(), None);
    let listed = p.storage.list("media/").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].key.as_str(), listed[0].size), ("media/avatars/a.txt", 5));

    // A pre-signed PUT works for a client that never saw our credentials.
    let url = p.storage.presign_put("media/uploads/b.png", "image/png", 4, Duration::from_secs(300)).await.unwrap();
    assert!(url.contains(&format!("/{}/media/uploads/b.png", p.storage.bucket())), "path-style: {url}");
    let put = reqwest::Client::new()
        .put(&url)
        .header("content-type", "image/png")
        .body(vec![1u8, 2, 3, 4])
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    assert_eq!(p.storage.get("media/uploads/b.png").await.unwrap(), Some(vec![1, 2, 3, 4]));

    p.storage.delete("media/avatars/a.txt").await.unwrap();
    assert_eq!(p.storage.list("media/avatars/").await.unwrap().len(), 0);
}

#[tokio::test]
async fn mail_is_sent_through_ses_v2() {
    let p = platform().await;
    let sdk = platform::aws::sdk_config();
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    ses.create_email_identity().email_identity(&p.config.mail_from).send().await.expect("verify the sender locally");
    let subject = format!("test {}", p.database);
    let id = p
        .mail
        .send(&platform::mail::Email {
            to: vec!["admin@quiz.local".into()],
            subject: subject.clone(),
            text: "plain".into(),
            html: Some("<p>html</p>".into()),
            reply_to: Some("visitor@quiz.local".into()),
        })
        .await
        .expect("send");
    assert!(!id.is_empty());
    // The local endpoint keeps sent mail; find ours there.
    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", p.settings["AWS_ENDPOINT_URL"]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(data["ses"]["Message"].to_string().contains(&subject), "the outbox holds the mail");
}

#[tokio::test]
async fn the_instances_connection_is_shared_by_concurrent_statements() {
    let p = platform().await;
    let (first, second) = (p.db.connection().await.unwrap(), p.db.connection().await.unwrap());
    // Both shares held at once, their statements in flight together on the one connection.
    let (a, b) = tokio::join!(
        first.query_one("SELECT pg_backend_pid(), 1::int4", &[]),
        second.query_one("SELECT pg_backend_pid(), 2::int4", &[])
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.get::<_, i32>(0), b.get::<_, i32>(0), "one server process: one connection");
    assert_eq!((a.get::<_, i32>(1), b.get::<_, i32>(1)), (1, 2), "each statement has its own answer");
}

#[tokio::test]
async fn a_statement_asked_for_during_a_transaction_waits_for_it_and_never_lands_inside_it() {
    let p = platform().await;
    let conn = p.db.connection().await.unwrap();
    conn.execute("CREATE TABLE tx_probe (n int4)", &[]).await.unwrap();
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO tx_probe VALUES (1)", &[]).await.unwrap();
    // Another share asks while the transaction is open: it must not see (or join) the uncommitted row.
    let other = p.db.connection().await.unwrap();
    let reader =
        tokio::spawn(
            async move { other.query_one("SELECT count(*) FROM tx_probe", &[]).await.map(|r| r.get::<_, i64>(0)) },
        );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!reader.is_finished(), "the statement waits while the transaction holds the connection");
    drop(tx); // rolled back, then the connection is shared again
    assert_eq!(reader.await.unwrap().unwrap(), 0, "ran after the rollback, outside the transaction");

    // Committed work is seen; the connection is the same one throughout.
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO tx_probe VALUES (2)", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let row = conn.query_one("SELECT count(*), sum(n)::int4 FROM tx_probe", &[]).await.unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i32>(1)), (1, 2));
}

#[tokio::test]
async fn the_cache_monitor_checks_reports_tests_and_clears_only_this_projects_keys() {
    use shared::cache_monitor;
    let p = platform().await;
    let check = cache_monitor::check(&p).await;
    assert!(check.ok && check.error.is_none(), "{check:?}");

    // Three keys of this project (the test's own prefix), one of somebody else's.
    for key in ["a", "b", "c"] {
        p.cache.set(key, &1, Duration::from_secs(60)).await;
    }
    let foreign = format!("other-project:{}", uuid::Uuid::new_v4().simple());
    p.cache.run::<()>(redis::cmd("SET").arg(&foreign).arg(1).arg("EX").arg(60)).await.unwrap();

    let stats = cache_monitor::stats(&p).await.unwrap();
    assert_eq!(stats.project_keys, 3, "{stats:?}");
    assert_eq!(stats.maxmemory_policy, "allkeys-lru", "the production setting, locally too");
    assert!(!stats.redis_version.is_empty() && stats.uptime_seconds > 0 && stats.used_memory_bytes > 0, "{stats:?}");

    let speed = cache_monitor::speed_test(&p).await.unwrap();
    assert_eq!(speed.keys, cache_monitor::SPEED_TEST_KEYS);
    assert!(speed.write.ops_per_second > 0.0 && speed.read.ops_per_second > 0.0 && speed.delete.ops_per_second > 0.0);
    assert_eq!(cache_monitor::stats(&p).await.unwrap().project_keys, 3, "the speed test leaves nothing behind");

    let cleared = cache_monitor::clear(&p).await.unwrap();
    assert_eq!(cleared.deleted, 3);
    assert_eq!(cache_monitor::stats(&p).await.unwrap().project_keys, 0);
    let still: Option<String> = p.cache.run(redis::cmd("GET").arg(&foreign)).await.unwrap();
    assert_eq!(still.as_deref(), Some("1"), "another prefix's key is untouched");
    p.cache.run::<()>(redis::cmd("DEL").arg(&foreign)).await.unwrap();
}

/// A secret on the local endpoint whose JSON is `body`; its ARN.
async fn create_secret(body: &str) -> String {
    let sdk = platform::aws::sdk_config();
    let name = format!("test-db-{}", uuid::Uuid::new_v4().simple());
    let created = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(name)
        .secret_string(body)
        .send()
        .await
        .expect("create the secret on the local endpoint");
    created.arn.expect("a secret ARN")
}

#[tokio::test]
async fn a_database_given_as_a_secret_is_read_at_start_up_and_a_missing_one_stops_the_start() {
    // As in AWS: no DATABASE_URL, only DATABASE_SECRET_ARN, read through the real Secrets Manager client.
    let test = support::platform().await;
    let body = serde_json::json!({ "url": test.settings["DATABASE_URL"] }).to_string();
    let arn = create_secret(&body).await;
    let mut settings = test.settings.clone();
    settings.remove("DATABASE_URL");
    settings.insert("DATABASE_SECRET_ARN".into(), arn);
    let config = platform::config::Config::from_lookup(|k| settings.get(k).cloned()).expect("a valid configuration");
    let from_secret = platform::Platform::new(config).await.expect("the platform starts from the secret");
    let rows = from_secret.db.connection().await.unwrap().query("SELECT current_database()", &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, String>(0), test.database, "it reached the database the secret names");

    settings.insert(
        "DATABASE_SECRET_ARN".into(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret".into(),
    );
    let config = platform::config::Config::from_lookup(|k| settings.get(k).cloned()).expect("a valid configuration");
    let err = platform::Platform::new(config).await.err().expect("no platform without its secret").to_string();
    assert!(err.contains("DATABASE_SECRET_ARN"), "the start-up error names the variable: {err}");
}
