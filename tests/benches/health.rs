//! Warm latency of the health handler in process, against the real local PostgreSQL, Redis and SQS endpoint, and
//! what a function's start costs with its database given as a URL or as a Secrets Manager secret (the local
//! endpoint's).
//! Run: `infra/bench health` (starts the services, then `cargo bench -p integration-tests --bench health`).

use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use platform::http::ApiRequest;
use shared::health;

fn health_handler(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let platform = runtime.block_on(support::platform());
    // Warm: the connections are open before measuring, as in a warm Lambda instance.
    let first = runtime.block_on(health::route(&platform, ApiRequest::new(Method::GET, "/api/v1/health"))).unwrap();
    assert_eq!(first.status, 200, "the local services must be up");
    // Every request runs the three checks (PostgreSQL, Redis, the local SQS endpoint).
    c.bench_function("health handler (warm, in process)", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = health::route(&platform, ApiRequest::new(Method::GET, "/api/v1/health")).await.unwrap();
            assert_eq!(response.status, 200);
        })
    });
    // As the deployed function answers: the report is reused for a second.
    let checker = health::Checker::new(std::time::Duration::from_secs(1));
    c.bench_function("health route as deployed (report reused, warm, in process)", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = checker.route(&platform, ApiRequest::new(Method::GET, "/api/v1/health")).await.unwrap();
            assert_eq!(response.status, 200);
        })
    });
}

/// `Platform::new` as a cold start runs it (configuration to clients; nothing connects), from `DATABASE_URL` and
/// from `DATABASE_SECRET_ARN`: the difference is the secret's one GetSecretValue call.
fn platform_start(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let test = runtime.block_on(support::platform());
    let sdk = platform::aws::sdk_config();
    let body = serde_json::json!({ "url": test.settings["DATABASE_URL"] }).to_string();
    let secret = runtime.block_on(
        aws_sdk_secretsmanager::Client::new(&sdk)
            .create_secret()
            .name(format!("bench-db-{}", uuid::Uuid::new_v4().simple()))
            .secret_string(body)
            .send(),
    );
    let arn = secret.expect("create the secret on the local endpoint").arn.expect("an ARN");
    let from_url = test.settings.clone();
    let mut from_secret = test.settings.clone();
    from_secret.remove("DATABASE_URL");
    from_secret.insert("DATABASE_SECRET_ARN".into(), arn);
    for (name, settings) in [("database from DATABASE_URL", from_url), ("database from its secret", from_secret)] {
        c.bench_function(&format!("platform start ({name})"), |b| {
            b.to_async(&runtime).iter(|| async {
                let config = platform::config::Config::from_lookup(|k| settings.get(k).cloned()).unwrap();
                platform::Platform::new(config).await.unwrap()
            })
        });
    }
}

criterion_group!(benches, health_handler, platform_start);
criterion_main!(benches);
