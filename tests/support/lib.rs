//! Test support: a fresh, isolated platform per test against the real local services.
//!
//! Each [`TestPlatform`] gets its own PostgreSQL database (migrated), its own Redis key prefix, and its own SQS
//! queue (with a dead-letter queue) and S3 bucket on the local AWS endpoint, so tests run in parallel without
//! seeing each other. Settings come from `infra/local.env`, the one file of local settings; the services must
//! be running (`infra/services start`, which the README's test command does).

pub mod bot_api;
pub mod calls;
pub mod cloud;
pub mod http_stub;
pub mod receiver;

use std::collections::HashMap;
use std::path::PathBuf;

use platform::Platform;
use platform::config::Config;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

/// `infra/local.env` as a map; the process environment overrides it, as it does for the functions.
pub fn local_settings() -> HashMap<String, String> {
    let path = repo_root().join("infra/local.env");
    platform::config::read_settings_file(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A platform on its own database, key prefix, queue and bucket.
pub struct TestPlatform {
    pub platform: Platform,
    pub database: String,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
    pub mail_queue_url: String,
    pub mail_dead_letter_queue_url: String,
    /// This platform's own event bus (before `adjust`), and the queue that receives every event published to it
    /// (a rule matching all of this project's events).
    pub event_bus: String,
    /// Receives every event published to this platform's own bus (a rule matching all of this project's events).
    pub events_queue_url: String,
    pub settings: HashMap<String, String>,
}

impl std::ops::Deref for TestPlatform {
    type Target = Platform;
    fn deref(&self) -> &Platform {
        &self.platform
    }
}

/// Builds a fresh platform; `adjust` may change settings first (e.g. point Redis at a closed port).
pub async fn platform_with(adjust: impl FnOnce(&mut HashMap<String, String>)) -> TestPlatform {
    let mut settings = local_settings();
    let unique = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let database = format!("test_{unique}");
    create_database(&settings["DATABASE_URL"], &database).await;
    let base_url = settings["DATABASE_URL"].rsplit_once('/').map(|(base, _)| base.to_string()).expect("a database URL");
    settings.insert("DATABASE_URL".into(), format!("{base_url}/{database}"));
    settings.insert("CACHE_KEY_PREFIX".into(), format!("test:{unique}:"));
    settings.insert("MEDIA_BUCKET".into(), format!("test-{unique}"));
    settings.insert("MEDIA_BASE_URL".into(), format!("{}/test-{unique}", settings["AWS_ENDPOINT_URL"]));

    // AWS clients read these from the process environment, as they do in Lambda.
    for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        // SAFETY: every test sets the same values from the same file, so concurrent writers agree.
        unsafe { std::env::set_var(key, &settings[key]) };
    }
    let sdk = platform::aws::sdk_config();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (queue_url, dead_letter_queue_url) = create_queue_pair(&sqs, &format!("test-{unique}")).await;
    settings.insert("DEBUG_QUEUE_URL".into(), queue_url.clone());
    let (mail_queue_url, mail_dead_letter_queue_url) = create_queue_pair(&sqs, &format!("test-{unique}-mail")).await;
    settings.insert("MAIL_QUEUE_URL".into(), mail_queue_url.clone());
    let (events_queue_url, _) = create_queue_pair(&sqs, &format!("test-{unique}-events")).await;
    let bus = format!("test-{unique}");
    create_bus_to_queue(&sdk, &bus, &events_queue_url).await;
    let event_bus = bus.clone();
    settings.insert("EVENT_BUS_NAME".into(), bus.clone());
    // The local endpoint, like SES in its sandbox, sends only from a verified sender.
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let from = settings.get("MAIL_FROM").cloned().unwrap_or_else(|| "no-reply@quiz.local".into());
    if ses.get_email_identity().email_identity(&from).send().await.is_err() {
        ses.create_email_identity().email_identity(&from).send().await.expect("verify the sender locally");
    }
    platform::aws::s3_client(&sdk)
        .create_bucket()
        .bucket(&settings["MEDIA_BUCKET"])
        .send()
        .await
        .expect("create the test bucket");

    let fresh = platform::db::Database::new(&settings["DATABASE_URL"], None).expect("a database URL");
    shared::migrations::apply(&fresh).await.expect("migrations apply to a fresh database");

    adjust(&mut settings);
    let config =
        Config::from_lookup(|k| settings.get(k).cloned()).expect("the local settings are a valid configuration");
    let platform = Platform::new(config).await.expect("a platform");
    TestPlatform {
        platform,
        database,
        queue_url,
        dead_letter_queue_url,
        mail_queue_url,
        mail_dead_letter_queue_url,
        event_bus,
        events_queue_url,
        settings,
    }
}

pub async fn platform() -> TestPlatform {
    platform_with(|_| {}).await
}

async fn create_database(url: &str, name: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at DATABASE_URL ({e}); run infra/services start"));
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create the test database");
}

/// A queue and its dead-letter queue (`maxReceiveCount` 3), as the template declares them.
pub async fn create_queue_pair(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let dlq = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.expect("create the dead-letter queue");
    let dlq_url = dlq.queue_url.expect("a queue URL");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    let dlq_arn = attrs.attributes.and_then(|a| a.get(&A::QueueArn).cloned()).expect("a queue ARN");
    let queue = sqs
        .create_queue()
        .queue_name(name)
        .attributes(A::VisibilityTimeout, "60")
        .attributes(
            A::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}).to_string(),
        )
        .send()
        .await
        .expect("create the queue");
    (queue.queue_url.expect("a queue URL"), dlq_url)
}

/// An event bus whose one rule sends every event of this project to the queue, as the template's rules do.
async fn create_bus_to_queue(sdk: &aws_config::SdkConfig, bus: &str, queue_url: &str) {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    events.create_event_bus().name(bus).send().await.expect("create the test event bus");
    let rule = format!("{bus}-all");
    let pattern = serde_json::json!({ "source": [platform::events::SOURCE] }).to_string();
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(bus)
        .event_pattern(pattern)
        .send()
        .await
        .expect("create the test rule");
    let queue_name = queue_url.rsplit('/').next().expect("a queue URL ends with its name");
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("events")
        .arn(format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}"))
        .build()
        .expect("a target");
    events.put_targets().rule(&rule).event_bus_name(bus).targets(target).send().await.expect("target the test queue");
}

/// Every SES message the local endpoint has sent whose subject contains `needle`, as JSON.
pub async fn sent_mail(settings: &HashMap<String, String>, needle: &str) -> Vec<serde_json::Value> {
    let url = format!("{}/moto-api/data.json", settings["AWS_ENDPOINT_URL"]);
    // The endpoint dumps its state while it serves the functions' calls, and a dump that meets a change half-way
    // is an error page, not JSON: read again a few times before calling that a failure.
    let mut attempts = 0;
    let data: serde_json::Value = loop {
        attempts += 1;
        let answer = reqwest::get(&url).await.expect("the local endpoint answers");
        match answer.json().await {
            Ok(data) => break data,
            Err(e) if attempts < 5 => {
                eprintln!("the local endpoint's data was not JSON ({e}); reading again");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => panic!("its data is JSON: {e}"),
        }
    };
    let mut found = Vec::new();
    collect_messages(&data["ses"]["Message"], needle, &mut found);
    found
}

fn collect_messages(value: &serde_json::Value, needle: &str, found: &mut Vec<serde_json::Value>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_messages(v, needle, found)),
        // A message: kept when it mentions the needle, and not searched further.
        serde_json::Value::Object(map) if map.contains_key("subject") || map.contains_key("Subject") => {
            found.extend(value.to_string().contains(needle).then(|| value.clone()))
        }
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_messages(v, needle, found)),
        _ => {}
    }
}

pub async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&platform::aws::sdk_config())
}

/// Waits (up to ten seconds) for `n` messages on a queue and returns them, visible again at once.
pub async fn receive(queue_url: &str, n: usize) -> Vec<aws_sdk_sqs::types::Message> {
    receive_within(queue_url, n, 10).await
}

/// As [`receive`], waiting up to `seconds`.
pub async fn receive_within(queue_url: &str, n: usize, seconds: usize) -> Vec<aws_sdk_sqs::types::Message> {
    let sqs = sqs().await;
    let mut got = Vec::new();
    for _ in 0..seconds {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .expect("receive");
        got.extend(out.messages.unwrap_or_default());
        if got.len() >= n {
            break;
        }
    }
    got
}

pub async fn delete(queue_url: &str, messages: &[aws_sdk_sqs::types::Message]) {
    let sqs = sqs().await;
    for m in messages {
        sqs.delete_message()
            .queue_url(queue_url)
            .receipt_handle(m.receipt_handle().unwrap())
            .send()
            .await
            .expect("delete");
    }
}

/// A user signed in for `ttl`: `(user id, session token)`. An administrator when `admin`.
pub async fn user_with_session(p: &Platform, name: &str, admin: bool) -> (i64, String) {
    let conn = p.db.connection().await.expect("the test database");
    let id: i64 = conn
        .query_one("INSERT INTO users (first_name, is_admin) VALUES ($1, $2) RETURNING id", &[&name, &admin])
        .await
        .expect("a user")
        .get(0);
    let (token, _) =
        shared::sessions::create(&conn, id, std::time::Duration::from_secs(3600), None).await.expect("a session");
    (id, token.as_str().to_string())
}

/// Received SQS messages as the SQS event Lambda would hand the function.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> serde_json::Value {
    platform::trigger::sqs::lambda_event(messages, "arn:aws:sqs:us-east-1:123456789012:test")
}
