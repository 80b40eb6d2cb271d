//! The issue's two job-path figures, in process against the real local services. Run: `infra/bench jobs`.
//!
//! - the contact route's 202: validation, the per-client limit (one Redis round trip), storing the message
//!   (one INSERT), publishing `contact.received` to the bus on the local AWS endpoint, and marking it published;
//! - processing a 12-megapixel JPEG upload: reading the original from S3, checking, orienting, stripping and
//!   fitting it into 2000×2000, re-encoding at quality 85, storing it and marking the upload ready.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use platform::events::DomainEvent;
use platform::http::ApiRequest;
use platform::storage::keys;
use shared::uploads::{self, Processing};
use uuid::Uuid;

/// A contact form from a new client address each time: the limit (five an hour per address) never answers for
/// the route.
fn contact_request(client: &AtomicU64) -> ApiRequest {
    let n = client.fetch_add(1, Ordering::Relaxed);
    let mut request = ApiRequest::new(Method::POST, "/api/v1/contact");
    request.source_ip = Some(format!("198.51.{}.{}", n / 250 % 250, n % 250 + 1));
    request.set_json_body(
        br#"{"name": "Bench", "email": "bench@example.com", "message": "How fast is this form?"}"#.to_vec(),
    );
    request
}

fn contact_route(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    // The local endpoint delivers an event to its rules' targets inside the PutEvents call (EventBridge answers
    // first and delivers after), and grows slower as the target queue fills. So the route is measured against a
    // bus without rules, the call as AWS would answer it; once more with the test bus, whose rule delivers every
    // event to a queue.
    let bus = format!("bench-{}", Uuid::new_v4().simple());
    let platform = runtime.block_on(async {
        let platform = support::platform_with(|s| {
            s.insert("EVENT_BUS_NAME".into(), bus.clone());
        })
        .await;
        let events = aws_sdk_eventbridge::Client::new(&platform::aws::sdk_config());
        events.create_event_bus().name(&bus).send().await.expect("a bus without rules");
        platform
    });
    let client = AtomicU64::new(0);
    let submit = || shared::contact::submit(&platform, contact_request(&client));
    runtime.block_on(async { submit().await.unwrap() });
    c.bench_function("contact form to 202: store + publish (in process)", |b| {
        b.to_async(&runtime).iter(|| async { assert_eq!(submit().await.unwrap().status, 202) })
    });
    // Its parts: the bus call alone, and the route's own work with a bus call that is refused at once.
    c.bench_function("contact form: PutEvents alone (local endpoint)", |b| {
        b.to_async(&runtime).iter(|| async {
            let event = DomainEvent::of(Uuid::new_v4(), &shared::contact::ContactReceived {}).unwrap();
            platform.events.publish(&event).await.unwrap()
        })
    });
    let offline = runtime.block_on(support::platform_with(|s| {
        s.insert("EVENT_BUS_NAME".into(), "no-such-bus".into());
    }));
    let submit_offline = || shared::contact::submit(&offline, contact_request(&client));
    c.bench_function("contact form to 202: store only, bus refuses (in process)", |b| {
        b.to_async(&runtime).iter(|| async { assert_eq!(submit_offline().await.unwrap().status, 202) })
    });
    let delivering = runtime.block_on(support::platform());
    let submit_delivering = || shared::contact::submit(&delivering, contact_request(&client));
    c.bench_function("contact form to 202: the emulator also delivering to a queue (in process)", |b| {
        b.to_async(&runtime).iter(|| async { assert_eq!(submit_delivering().await.unwrap().status, 202) })
    });
}

fn twelve_megapixel_upload(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let platform = runtime.block_on(support::platform());
    let (user, _) = runtime.block_on(support::user_with_session(&platform, "Bench", false));
    let platform = &platform;
    let photo = media::test_support::with_exif(&media::test_support::jpeg(4000, 3000), 1);
    println!("original: 4000×3000 JPEG, {} bytes", photo.len());
    // Each measured run gets its own upload, completed and waiting, with the original in S3.
    let photo = &photo;
    let prepare = move || async move {
        let id = Uuid::new_v4();
        platform.storage.put(&keys::original(id), photo.clone(), "image/jpeg").await.unwrap();
        platform
            .db
            .connection()
            .await
            .unwrap()
            .execute(
                "INSERT INTO uploads (id, user_id, purpose, content_type, declared_size, status, completed_at)
                     VALUES ($1, $2, 'post_image', 'image/jpeg', $3, 'processing', now())",
                &[&id, &user, &(photo.len() as i64)],
            )
            .await
            .unwrap();
        id
    };
    let mut group = c.benchmark_group("upload processing");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("12-megapixel JPEG, S3 to S3 (in process)", |b| {
        b.to_async(&runtime).iter_custom(|iterations| async move {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let id = prepare().await;
                let started = Instant::now();
                let outcome = uploads::process(platform, id).await.unwrap();
                spent += started.elapsed();
                assert!(matches!(outcome, Processing::Ready { .. }), "{outcome:?}");
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, contact_route, twelve_megapixel_upload);
criterion_main!(benches);
