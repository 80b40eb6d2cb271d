//! `GET /api/v1/health`: is every dependency of the functions reachable, and how fast?
//!
//! PostgreSQL, Redis and the job queue endpoint are checked concurrently, each with its latency. All up is 200;
//! any down is 503 with the same report, so a load balancer and a person read the same answer.
//!
//! A deployed instance answers from a [`Checker`], which reuses its last report for a moment (one second in
//! the function): probes and load then cost the dependencies at most one round of checks per instance per
//! second, and the report says how old it is.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use http::StatusCode;
use serde::Serialize;

use platform::Platform;
use platform::http::{ApiError, ApiRequest, ApiResponse};

/// No check may hold the answer longer than this.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DependencyCheck {
    pub status: &'static str,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HealthReport {
    pub status: &'static str,
    pub checks: BTreeMap<&'static str, DependencyCheck>,
    /// How long ago the checks ran, when the report is reused.
    pub age_ms: u64,
}

impl HealthReport {
    pub fn is_healthy(&self) -> bool {
        self.checks.values().all(|c| c.status == "up")
    }
}

async fn timed<F, E>(check: F) -> DependencyCheck
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, check).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {CHECK_TIMEOUT:?}")),
    };
    DependencyCheck { status: if error.is_none() { "up" } else { "down" }, latency_ms, error }
}

/// Checks every dependency concurrently.
pub async fn check(platform: &Platform) -> HealthReport {
    let postgres = timed(async {
        let connection = platform.db.connection().await?;
        connection.query_one("SELECT 1", &[]).await.map(|_| ())
    });
    let redis = timed(async { platform.cache.run::<String>(&redis::cmd("PING")).await.map(|_| ()) });
    let queue = timed(async {
        platform
            .jobs
            .sqs()
            .get_queue_attributes()
            .queue_url(&platform.jobs.urls().debug)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| platform::aws::describe(&e))
    });
    let (postgres, redis, queue) = tokio::join!(postgres, redis, queue);
    let checks = BTreeMap::from([("postgres", postgres), ("redis", redis), ("queue", queue)]);
    let healthy = checks.values().all(|c| c.status == "up");
    HealthReport { status: if healthy { "ok" } else { "degraded" }, checks, age_ms: 0 }
}

/// The route, checking every time: 200 when all is up, 503 (with `Retry-After`) when anything is down.
pub async fn route(platform: &Platform, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
    respond(check(platform).await)
}

/// Reuses a report for `max_age`, so the route's cost to the dependencies does not grow with its traffic.
pub struct Checker {
    max_age: Duration,
    last: tokio::sync::Mutex<Option<(Instant, HealthReport)>>,
}

impl Checker {
    pub fn new(max_age: Duration) -> Self {
        Self { max_age, last: tokio::sync::Mutex::new(None) }
    }

    pub async fn report(&self, platform: &Platform) -> HealthReport {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = last.as_ref().filter(|(at, _)| at.elapsed() < self.max_age) {
            return HealthReport { age_ms: at.elapsed().as_millis() as u64, ..report.clone() };
        }
        let report = check(platform).await;
        *last = Some((Instant::now(), report.clone()));
        report
    }

    pub async fn route(&self, platform: &Platform, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
        respond(self.report(platform).await)
    }
}

/// The deployed route: one [`Checker`] per instance, reusing its report for a second.
pub async fn cached_route(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    static CHECKER: std::sync::LazyLock<Checker> = std::sync::LazyLock::new(|| Checker::new(Duration::from_secs(1)));
    CHECKER.route(platform, request).await
}

fn respond(report: HealthReport) -> Result<ApiResponse, ApiError> {
    if report.is_healthy() {
        Ok(ApiResponse::ok(&report))
    } else {
        tracing::warn!(report = ?report, "a dependency is down");
        Ok(ApiResponse::json(StatusCode::SERVICE_UNAVAILABLE, &report)
            .with_header(http::header::RETRY_AFTER, http::HeaderValue::from_static("5")))
    }
}
