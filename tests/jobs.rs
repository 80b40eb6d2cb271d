//! The background jobs against the real services: PostgreSQL, Redis, and SQS, EventBridge and SES v2 on the local
//! AWS endpoint. Each test has its own database, key prefix, queues and event bus (see `support`).

use std::time::Duration;

use http::{Method, StatusCode};
use platform::http::ApiRequest;
use platform::jobs::{JobEnvelope, JobKind};
use shared::contact::{self, Notified};
use shared::mail::{self, Delivery};
use support::{TestPlatform, delete, platform, platform_with, receive, sent_mail, sqs, sqs_event};

fn contact_request(name: &str, message: &str, client: &str) -> ApiRequest {
    let mut request = ApiRequest::new(Method::POST, "/api/v1/contact");
    request.source_ip = Some(client.to_string());
    request.set_json_body(
        serde_json::json!({ "name": name, "email": "visitor@example.com", "message": message })
            .to_string()
            .into_bytes(),
    );
    request
}

async fn stored_messages(p: &TestPlatform) -> Vec<(uuid::Uuid, bool)> {
    let conn = p.db.connection().await.unwrap();
    let rows =
        conn.query("SELECT id, published_at IS NOT NULL FROM contact_messages ORDER BY created_at", &[]).await.unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// Submits a contact message and returns the `contact.received` event its rule delivered.
async fn submit_and_receive_event(p: &TestPlatform, name: &str) -> JobEnvelope {
    let response =
        contact::submit(p, contact_request(name, "A question about closures, please.", "203.0.113.7")).await.unwrap();
    assert_eq!(response.status, StatusCode::ACCEPTED);
    let events = receive(&p.events_queue_url, 1).await;
    assert_eq!(events.len(), 1, "the route published one event");
    delete(&p.events_queue_url, &events).await;
    let job = JobEnvelope::parse(events[0].body().unwrap()).expect("the rule delivers a readable event");
    assert_eq!(job.event.as_deref(), Some("contact.received"));
    job
}

#[tokio::test]
async fn a_contact_message_is_mailed_to_the_admins_exactly_once_even_when_every_message_is_delivered_twice() {
    let p = platform().await;
    let name = format!("Visitor {}", p.database);
    let event = submit_and_receive_event(&p, &name).await;
    let stored = stored_messages(&p).await;
    assert_eq!(stored, [(event.id, true)], "stored first, then marked published");

    // The event delivered twice: the same mail job both times.
    let first = contact::notify_admins(&p, &event).await.unwrap();
    let second = contact::notify_admins(&p, &event).await.unwrap();
    assert!(matches!(first, Notified::MailEnqueued(_)));
    assert_eq!(first, second);
    let mails = receive(&p.mail_queue_url, 2).await;
    assert_eq!(mails.len(), 2);

    // Each mail job delivered twice: one mail in the outbox.
    let mut deliveries = Vec::new();
    for message in &mails {
        let job = JobEnvelope::parse(message.body().unwrap()).unwrap();
        assert_eq!(job.kind, JobKind::SendEmail);
        for _ in 0..2 {
            deliveries.push(mail::deliver(&p, &job).await.unwrap());
        }
    }
    assert_eq!(deliveries.iter().filter(|d| matches!(d, Delivery::Sent(_))).count(), 1, "{deliveries:?}");
    assert_eq!(deliveries.iter().filter(|d| **d == Delivery::AlreadySent).count(), 3);
    let sent = sent_mail(&p.settings, &name).await;
    assert_eq!(sent.len(), 1, "exactly one mail: {sent:?}");
    assert!(sent[0].to_string().contains("admin@quiz.local"), "to the configured admins: {}", sent[0]);
}

#[tokio::test]
async fn a_failing_send_ends_in_the_dead_letter_queue_after_three_receives_and_the_message_stays_stored() {
    // A sender the local endpoint never verified: every send is refused, as SES refuses it.
    let p = platform_with(|s| {
        s.insert("MAIL_FROM".into(), format!("unverified-{}@quiz.local", uuid::Uuid::new_v4().simple()));
    })
    .await;
    let name = format!("Visitor {}", p.database);
    let event = submit_and_receive_event(&p, &name).await;
    contact::notify_admins(&p, &event).await.unwrap();

    let sqs = sqs().await;
    let mut attempts = 0;
    for _ in 0..8 {
        let out = sqs
            .receive_message()
            .queue_url(&p.mail_queue_url)
            .visibility_timeout(0)
            .wait_time_seconds(1)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        attempts += 1;
        let platform: &platform::Platform = &p;
        let response = platform::trigger::sqs::process_batch(sqs_event(&messages), |job| async move {
            mail::deliver(platform, &job).await.map(|_| ())
        })
        .await
        .unwrap();
        assert_eq!(response.batch_item_failures.len(), 1, "the failed send is reported for a retry");
    }
    assert_eq!(attempts, 3, "three receives, then the queue gives up on it");
    let dead = receive(&p.mail_dead_letter_queue_url, 1).await;
    assert_eq!(dead.len(), 1, "the mail rests in the dead-letter queue");
    assert!(sent_mail(&p.settings, &name).await.is_empty(), "nothing was sent");
    assert_eq!(stored_messages(&p).await.len(), 1, "the contact message is still stored");
    let claims: i64 =
        p.db.connection().await.unwrap().query_one("SELECT count(*) FROM mail_deliveries", &[]).await.unwrap().get(0);
    assert_eq!(claims, 0, "a failed send leaves no claim behind, so a redriven mail is sent");
}

#[tokio::test]
async fn when_the_bus_is_unreachable_the_answer_is_still_202_and_the_sweep_publishes_later() {
    let p = platform_with(|s| {
        s.insert("EVENT_BUS_NAME".into(), "no-such-bus".into());
    })
    .await;
    let response =
        contact::submit(&p, contact_request("Ada", "The bus is away, but I am not.", "203.0.113.8")).await.unwrap();
    assert_eq!(response.status, StatusCode::ACCEPTED);
    let stored = stored_messages(&p).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].1, "stored, not yet published");

    // The sweep on a platform that reaches the bus again (same database and queues).
    let mut config = platform::config::Config::from_lookup(|k| p.settings.get(k).cloned()).unwrap();
    config.event_bus_name = p.event_bus.clone();
    let healed = platform::Platform::new(config).await.unwrap();
    let swept = contact::sweep(&healed, Duration::ZERO).await.unwrap();
    assert_eq!((swept.published, swept.failed), (1, 0));
    let events = receive(&p.events_queue_url, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        JobEnvelope::parse(events[0].body().unwrap()).unwrap().id,
        stored[0].0,
        "the event names the stored message"
    );
    assert!(stored_messages(&p).await[0].1, "now marked published");
    let again = contact::sweep(&healed, Duration::ZERO).await.unwrap();
    assert_eq!((again.published, again.failed), (0, 0), "a published message is not published again");
}

#[tokio::test]
async fn bad_contact_forms_are_400s_that_store_nothing_and_a_client_gets_five_an_hour() {
    let p = platform().await;
    for body in [
        serde_json::json!({"name": "", "email": "visitor@example.com", "message": "long enough message"}),
        serde_json::json!({"name": "Ada", "email": "not an address", "message": "long enough message"}),
        serde_json::json!({"name": "Ada", "email": "visitor@example.com", "message": "short"}),
        serde_json::json!({"name": "Ada", "email": "visitor@example.com", "message": "long enough message", "extra": 1}),
        serde_json::json!(["not", "an", "object"]),
    ] {
        let mut request = contact_request("", "", "203.0.113.9");
        request.set_json_body(body.to_string().into_bytes());
        let err = contact::submit(&p, request).await.expect_err("refused");
        assert_eq!(err.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert!(stored_messages(&p).await.is_empty(), "a refused form stores nothing");

    for i in 0..5 {
        let ok =
            contact::submit(&p, contact_request("Ada", &format!("Message number {i} of five."), "203.0.113.10")).await;
        assert_eq!(ok.unwrap().status, StatusCode::ACCEPTED);
    }
    let sixth = contact::submit(&p, contact_request("Ada", "One message too many.", "203.0.113.10"))
        .await
        .expect_err("limited");
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    let other_client =
        contact::submit(&p, contact_request("Bob", "Another address is not limited.", "203.0.113.11")).await;
    assert_eq!(other_client.unwrap().status, StatusCode::ACCEPTED);
    assert_eq!(stored_messages(&p).await.len(), 6);
}

#[tokio::test]
async fn the_statistics_refresh_writes_exactly_the_keys_of_players_seen_in_the_last_day() {
    let p = platform().await;
    let conn = p.db.connection().await.unwrap();
    let mut ids = Vec::new();
    for (telegram_id, seen) in [(1_i64, Some(1_i32)), (2, Some(23)), (3, Some(49)), (4, None)] {
        let row = conn
            .query_one(
                "INSERT INTO users (telegram_id, first_name, last_seen_at)
                 VALUES ($1, 'Player', CASE WHEN $2::int IS NULL THEN NULL ELSE now() - make_interval(hours => $2::int) END)
                 RETURNING id",
                &[&(700_000_000 + telegram_id), &seen],
            )
            .await
            .unwrap();
        ids.push(row.get::<_, i64>(0));
    }
    let refreshed =
        shared::quiz::stats::refresh_recent(&p, chrono::Utc::now() - chrono::Duration::hours(24), 1).await.unwrap();
    assert_eq!((refreshed.users, refreshed.batches), (2, 2), "two recent players, one per batch of one");
    let cached = |id: i64| {
        let p = &p;
        async move { p.cache.get::<shared::quiz::stats::PersonalStats>(&format!("user_stats:{id}")).await }
    };
    assert_eq!(cached(ids[0]).await.map(|s| s.user_id), Some(ids[0]));
    assert_eq!(cached(ids[1]).await.map(|s| s.user_id), Some(ids[1]));
    assert!(cached(ids[2]).await.is_none(), "seen two days ago: not refreshed");
    assert!(cached(ids[3]).await.is_none(), "never seen: not refreshed");
}
