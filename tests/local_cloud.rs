//! End to end through the local cloud (`infra/cloud start`, which `infra/test` runs): real binaries behind the
//! runtime interface emulator, the gateway, the queue pollers and the schedules of `template.yaml`.

use std::time::{Duration, Instant};

use platform::jobs::{JobEnvelope, JobKind};

use support::cloud::{control, database, eventually, fresh_loopback_client, gateway, queue_url, recorded, sqs};

#[tokio::test]
async fn the_health_route_answers_over_http_with_the_callers_request_id() {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/health", gateway()))
        .header("x-request-id", "e2e-health")
        .send()
        .await
        .expect("is the local cloud up? (infra/cloud start)");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "e2e-health");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
}

#[tokio::test]
async fn an_unknown_route_is_a_404_json_and_a_wrong_method_too() {
    for (method, path) in [(reqwest::Method::GET, "/api/v1/nothing-here"), (reqwest::Method::POST, "/api/v1/health")] {
        let response = reqwest::Client::new().request(method, format!("{}{path}", gateway())).send().await.unwrap();
        assert_eq!(response.status(), 404);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Not Found");
    }
}

#[tokio::test]
async fn a_job_sent_to_its_queue_reaches_its_function_once() {
    let sqs = sqs().await;
    let db = database().await;
    let job = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), serde_json::json!({"from": "e2e"}));
    sqs.send_message()
        .queue_url(queue_url("debug"))
        .message_body(serde_json::to_string(&job).unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || async { recorded(&db, job.id).await == 1 }).await,
        "the debug job ran"
    );
}

#[tokio::test]
async fn a_poison_message_ends_in_the_dead_letter_queue_while_its_batch_neighbours_succeed() {
    let sqs = sqs().await;
    let db = database().await;
    let marker = uuid::Uuid::new_v4().to_string();
    let poison = JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), serde_json::json!({"fail": marker}));
    let good: Vec<JobEnvelope> =
        (0..3).map(|n| JobEnvelope::raw(JobKind::Debug, uuid::Uuid::new_v4(), serde_json::json!({"n": n}))).collect();
    for job in std::iter::once(&poison).chain(&good) {
        sqs.send_message()
            .queue_url(queue_url("debug"))
            .message_body(serde_json::to_string(job).unwrap())
            .send()
            .await
            .unwrap();
    }
    for job in &good {
        assert!(eventually(Duration::from_secs(15), || async { recorded(&db, job.id).await == 1 }).await);
    }
    // maxReceiveCount is 3: after three failed receives the queue moves it to the dead-letter queue.
    let dlq = queue_url("debug-dlq");
    let mut found = false;
    let started = Instant::now();
    while !found && started.elapsed() < Duration::from_secs(30) {
        let out =
            sqs.receive_message().queue_url(&dlq).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        for m in out.messages.unwrap_or_default() {
            if m.body().is_some_and(|b| b.contains(&marker)) {
                found = true;
                sqs.delete_message().queue_url(&dlq).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
            }
        }
    }
    assert!(found, "the poison message reached the dead-letter queue");
    assert_eq!(recorded(&db, poison.id).await, 0);
    for job in &good {
        assert_eq!(recorded(&db, job.id).await, 1, "each neighbour ran exactly once");
    }
}

#[tokio::test]
async fn a_schedule_fired_on_demand_runs_its_function() {
    let response =
        reqwest::Client::new().post(format!("{}/_local/fire/clear-expired-sessions", control())).send().await.unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["function"], shared::functions::CLEAR_EXPIRED_SESSIONS.name, "{body}");
    assert!(body["result"]["deleted"].is_u64(), "{body}");
    assert!(body["result"]["batches"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn a_function_can_be_invoked_with_its_sample_event() {
    let event = std::fs::read(support::repo_root().join("events/health/get.json")).unwrap();
    let response =
        reqwest::Client::new().post(format!("{}/_local/invoke/health", control())).body(event).send().await.unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["result"]["statusCode"], 200, "{body}");
    let inner: serde_json::Value = serde_json::from_str(body["result"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["status"], "ok");
}

/// A body over Lambda's payload limit for a synchronous invocation (6 MB): what API Gateway never hands a function.
const OVER_THE_LIMIT: usize = 7 * 1024 * 1024;

#[tokio::test]
async fn a_body_over_lambdas_payload_limit_is_refused_by_the_gateway_with_a_413_json() {
    let response = fresh_loopback_client()
        .post(format!("{}/api/v1/contact", gateway()))
        .header("content-type", "application/json")
        .body(vec![b' '; OVER_THE_LIMIT])
        .send()
        .await
        .expect("is the local cloud up? (infra/cloud start)");
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"message": "Request Entity Too Large"}),
        "the gateway's answer, not the function's"
    );
}

#[tokio::test]
async fn the_control_api_and_lambdas_invoke_api_answer_on_the_control_port_only() {
    let client = reqwest::Client::new();
    let lambda = "/2015-03-31/functions/health/invocations";
    let event = std::fs::read(support::repo_root().join("events/health/get.json")).unwrap();
    for (method, path) in [(reqwest::Method::GET, "/_local/status"), (reqwest::Method::POST, lambda)] {
        let response = client.request(method, format!("{}{path}", gateway())).body(event.clone()).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path} on the gateway");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Not Found");
    }
    let status: serde_json::Value =
        client.get(format!("{}/_local/status", control())).send().await.unwrap().json().await.unwrap();
    assert!(status["routes"].as_array().is_some_and(|r| r.iter().any(|r| r["path"] == "/api/v1/health")), "{status}");
    let response = client.post(format!("{}{lambda}", control())).body(event).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-amz-function-error").is_none());
    let payload: serde_json::Value = response.json().await.unwrap();
    assert_eq!(payload["statusCode"], 200, "{payload}");
    // A web page cannot use it, even one on the Mini App's origin.
    let from_page =
        client.get(format!("{}/_local/status", control())).header("origin", gateway()).send().await.unwrap();
    assert_eq!(from_page.status(), 403);
}

/// A second local cloud, on ports of its own, serving `tests/fixtures/echo-template.yaml`: one echo route, so what
/// the gateway hands a real binary and what it hands back can be compared byte for byte.
struct EchoCloud {
    child: std::process::Child,
    base: String,
    binary: std::path::PathBuf,
    control_port: String,
}

impl Drop for EchoCloud {
    /// `down`, as `infra/cloud down` does it: the cloud stops its instances on the way out. A kill alone left their
    /// runtime interface emulators running after every test run.
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.binary)
            .args(["down", "--control-port", &self.control_port])
            .current_dir(support::repo_root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Each test that starts one gives it two ports of its own, apart from the others' (its instances listen from the
/// gateway's port + 6000 on).
async fn echo_cloud(port: u16, control_port: u16) -> EchoCloud {
    let echo = std::path::PathBuf::from(env!("CARGO_BIN_EXE_echo"));
    let profile_dir = echo.parent().unwrap();
    let cloud = profile_dir.join("local-cloud");
    assert!(cloud.exists(), "{} is not built: run infra/test", cloud.display());
    let (port, control_port) = (port.to_string(), control_port.to_string());
    let child = std::process::Command::new(&cloud)
        .args([
            "up",
            "--port",
            &port,
            "--control-port",
            &control_port,
            "--instances",
            "1",
            "--template",
            "tests/fixtures/echo-template.yaml",
        ])
        // The emulator the suite runs under (infra/test runs part of it under AWS's as well).
        .args(std::env::var("LOCAL_EMULATOR").map(|e| vec!["--emulator".to_string(), e]).unwrap_or_default())
        .current_dir(support::repo_root())
        .env("LOCAL_PROFILE", profile_dir.file_name().unwrap())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start a second local cloud");
    let status = format!("http://127.0.0.1:{control_port}/_local/status");
    let guard = EchoCloud { child, base: format!("http://127.0.0.1:{port}"), binary: cloud, control_port };
    let up = eventually(Duration::from_secs(30), || async {
        reqwest::get(&status).await.is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(up, "the echo cloud came up");
    guard
}

#[tokio::test]
async fn path_parameters_query_strings_cookies_and_binary_bodies_survive_the_round_trip() {
    use base64::Engine;
    let cloud = echo_cloud(3999, 3998).await;
    let client = reqwest::Client::new();

    let response = client
        .post(format!("{}/echo/ada%20lovelace?lang=ru&topic=7", cloud.base))
        .header("cookie", "session=abc; theme=dark")
        .header("content-type", "application/json")
        .body(r#"{"answer":2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echoed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path_params"]["name"], "ada lovelace");
    assert_eq!(echoed["query"]["lang"], "ru");
    assert_eq!(echoed["query"]["topic"], "7");
    assert_eq!(echoed["cookie"], "session=abc; theme=dark");
    let body = base64::engine::general_purpose::STANDARD.decode(echoed["body_base64"].as_str().unwrap()).unwrap();
    assert_eq!(body, br#"{"answer":2}"#);

    // Every byte value, in and out: base64 on the way to the function and on the way back.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1024).collect();
    let response = client
        .put(format!("{}/echo/bytes?binary=1", cloud.base))
        .header("content-type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "image/png");
    let cookies: Vec<&str> = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(cookies, ["first=1; HttpOnly", "second=2; Secure"]);
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test]
async fn a_crashed_or_timed_out_instance_fails_its_invocation_and_the_next_one_starts_afresh() {
    let cloud = echo_cloud(3950, 3951).await;
    let client = reqwest::Client::new();
    let get = |query: &'static str| client.get(format!("{}/echo/x{query}", cloud.base)).send();
    assert_eq!(get("").await.unwrap().status(), 200, "a warm instance");
    let crashed = get("?exit=3").await.unwrap();
    assert_eq!(crashed.status(), 502, "a process that exits mid-invocation is the gateway's 502");
    assert_eq!(
        crashed.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"message": "Internal Server Error"})
    );
    assert_eq!(get("").await.unwrap().status(), 200, "a fresh instance answers the next one");
    // The template gives the echo function 3 s.
    let started = std::time::Instant::now();
    assert_eq!(get("?sleep_ms=6000").await.unwrap().status(), 502, "over its timeout");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_secs(6), "cut at the timeout: {waited:?}");
    assert_eq!(get("?sleep_ms=10").await.unwrap().status(), 200, "and the next one is answered");
    let status: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{}/_local/status", cloud.control_port))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cold = status["functions"]["echo"]["cold_starts_ms"].as_array().unwrap().len();
    // AWS's emulator restarts the runtime inside its own process, where the pool does not see it: one instance.
    let expected = if std::env::var("LOCAL_EMULATOR").is_ok_and(|e| e == "rie") { 1 } else { 3 };
    assert_eq!(cold, expected, "one cold start for the first instance, and one after each broken one: {status}");
}

#[tokio::test]
async fn a_body_reaches_the_function_as_long_as_its_event_fits_in_lambdas_payload_limit() {
    let cloud = echo_cloud(3900, 3901).await;
    let client = reqwest::Client::new();
    // 3 MiB of text fits in an event: the function gets it, and refuses it itself (over MAX_BODY_BYTES).
    let text = client
        .post(format!("{}/echo/text", cloud.base))
        .header("content-type", "text/plain")
        .body(vec![b'x'; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 413);
    let body: serde_json::Value = text.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large", "the function's own answer: {body}");
    // 5 MiB of bytes is under the limit, but not in base64 with the rest of the event: the gateway refuses it.
    let bytes = client
        .post(format!("{}/echo/bytes", cloud.base))
        .header("content-type", "image/png")
        .body(vec![0u8; 5 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(bytes.status(), 413);
    let body: serde_json::Value = bytes.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"message": "Request Entity Too Large"}));
    // And what is over it by itself, whatever its kind.
    let over = client
        .put(format!("{}/echo/over", cloud.base))
        .header("content-type", "text/plain")
        .body(vec![b'x'; OVER_THE_LIMIT])
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 413);
}

#[tokio::test]
async fn a_contact_message_reaches_the_admins_mailbox_through_the_event_bus_and_both_jobs() {
    let name = format!("E2E visitor {}", uuid::Uuid::new_v4().simple());
    let response = fresh_loopback_client()
        .post(format!("{}/api/v1/contact", gateway()))
        .json(
            &serde_json::json!({"name": name, "email": "visitor@example.com", "message": "Hello through every part."}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "received", "{body}");
    // route -> contact.received -> rule -> contact-mail queue -> send-contact-form-email -> mail queue -> send-email -> SES
    let settings = support::local_settings();
    let arrived =
        eventually(Duration::from_secs(30), || async { support::sent_mail(&settings, &name).await.len() == 1 }).await;
    assert!(arrived, "one mail for {name} in the local outbox");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(support::sent_mail(&settings, &name).await.len(), 1, "and only one");
}

#[tokio::test]
async fn the_new_schedules_fire_on_demand() {
    let schedules = [
        (shared::functions::UPDATE_USER_STATISTICS_CACHE.name, "/users"),
        (shared::functions::REPUBLISH_EVENTS.name, "/open_graph_images/published"),
        (shared::functions::CLEANUP_OLD_MEDIA_FILES.name, "/scanned"),
    ];
    for (function, field) in schedules {
        let response =
            reqwest::Client::new().post(format!("{}/_local/fire/{function}", control())).send().await.unwrap();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["function"], function, "{body}");
        assert!(body["result"].pointer(field).is_some_and(serde_json::Value::is_u64), "{body}");
    }
}

#[tokio::test]
async fn queue_inspect_pings_every_job_function_and_reports_every_job_queue() {
    let ping =
        support::cloud::invoke(shared::functions::QUEUE_INSPECT.name, serde_json::json!({"action": "ping"})).await;
    let result = &ping["result"];
    assert!(result["of"].as_u64().unwrap() >= 9, "{ping}");
    assert_eq!(result["answered"], result["of"], "every job function answered: {ping}");
    for pong in result["functions"].as_array().unwrap() {
        assert_eq!(pong["answer"]["pong"], true, "{pong}");
        assert_eq!(pong["answer"]["function"], pong["function"], "the function itself answered: {pong}");
        assert!(pong["answer"]["cold"].is_boolean() && pong["answer"]["version"].is_string(), "{pong}");
    }
    let inspection =
        support::cloud::invoke(shared::functions::QUEUE_INSPECT.name, serde_json::json!({"action": "inspect"})).await;
    let queues: Vec<&str> =
        inspection["result"]["queues"].as_array().unwrap().iter().map(|q| q["queue"].as_str().unwrap()).collect();
    for queue in ["quiz-debug", "quiz-mail", "quiz-contact-mail", "quiz-uploads", "quiz-og-image"] {
        assert!(queues.contains(&queue), "{queue} in {queues:?}");
    }
    let bad = support::cloud::invoke(
        shared::functions::QUEUE_INSPECT.name,
        serde_json::json!({"action": "redrive", "queue": "no-such-queue"}),
    )
    .await;
    assert!(bad["error"].to_string().contains("no queue of this stack"), "{bad}");
}
