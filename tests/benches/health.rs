//! Warm latency of the health handler in process, against the real local PostgreSQL, Redis and SQS endpoint.
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

criterion_group!(benches, health_handler);
criterion_main!(benches);
