//! Telemetry: JSON log lines and the per-request summary.
//!
//! Each invocation (an HTTP request, one SQS message, a scheduled run) runs inside a [`scope`]: a tracing span
//! carrying the request id, the function name and whether this instance was cold, plus task-local counters that
//! the database and cache modules bump. When the scope ends, one summary line reports status, duration, SQL
//! statements, cache hits and misses and the outcome as CloudWatch Embedded Metric Format, so the same line is a
//! searchable log entry and a set of metrics; a warning is logged above 1 s or 20 statements (the thresholds of
//! the earlier system's monitoring middleware) and for every failure.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tracing::Instrument;

/// A request slower than this is logged as a warning.
pub const SLOW_REQUEST: Duration = Duration::from_secs(1);
/// A request running more SQL statements than this is logged as a warning.
pub const MANY_STATEMENTS: u32 = 20;

static FUNCTION_NAME: OnceLock<String> = OnceLock::new();
static COLD: AtomicBool = AtomicBool::new(true);
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Sets up JSON logging for a function; call once at the start of `main`. `RUST_LOG` sets the level.
pub fn init(function_name: &str) {
    let _ = FUNCTION_NAME.set(function_name.to_string());
    let _ = STARTED.set(Instant::now());
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // `info`, or `target=level,level` lists: `Targets` reads what the template's LogLevel sets, without the regex
    // engine that EnvFilter's span filters bring into every binary.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .finish()
        .with(filter)
        .try_init();
}

/// The name the function was started under (its binary name).
pub fn function_name() -> &'static str {
    FUNCTION_NAME.get().map(String::as_str).unwrap_or("unknown")
}

/// Whether this is the instance's first invocation; every later call answers `false`.
pub fn take_cold() -> bool {
    COLD.swap(false, Ordering::Relaxed)
}

/// How long ago this instance started ([`init`]).
pub fn uptime() -> Duration {
    STARTED.get().map(Instant::elapsed).unwrap_or_default()
}

/// What one invocation did; filled in by the database and cache modules while it runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub sql_statements: u32,
    pub cache_hits: u32,
    pub cache_misses: u32,
}

tokio::task_local! {
    static COUNTERS: Cell<Counters>;
}

fn bump(f: impl FnOnce(&mut Counters)) {
    // Outside a scope (start-up, a test calling a module directly) there is nothing to count into.
    let _ = COUNTERS.try_with(|cell| {
        let mut c = cell.get();
        f(&mut c);
        cell.set(c);
    });
}

pub(crate) fn count_sql_statement() {
    bump(|c| c.sql_statements += 1);
}
pub fn count_cache_hit() {
    bump(|c| c.cache_hits += 1);
}
pub fn count_cache_miss() {
    bump(|c| c.cache_misses += 1);
}

/// The counters of the scope this task is in, if any.
pub fn current() -> Option<Counters> {
    COUNTERS.try_with(Cell::get).ok()
}

/// What started an invocation: the `Trigger` dimension of its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Http,
    Sqs,
    Schedule,
    Invoke,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Http => "http",
            Trigger::Sqs => "sqs",
            Trigger::Schedule => "schedule",
            Trigger::Invoke => "invoke",
        }
    }
}

/// How an invocation ended, as its metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// An HTTP answer below 400.
    Success,
    /// A 4xx: the client's mistake, not the system's.
    ClientError,
    /// A 5xx.
    ServerError,
    /// A job or run that completed.
    Done,
    /// A job that failed and will be delivered again (a queue's retry; Lambda's retry of a scheduled run).
    Retried,
    /// A job that failed for the last time: the queue moves it to its dead-letter queue.
    DeadLettered,
    /// A direct invocation that failed: its caller gets the error, nothing retries it.
    Failed,
}

impl Class {
    pub fn is_failure(self) -> bool {
        matches!(self, Class::ServerError | Class::Retried | Class::DeadLettered | Class::Failed)
    }
}

/// How an invocation ended, for its summary line: an HTTP status or a job outcome, and its [`Class`].
pub trait Outcome {
    fn status(&self) -> String;
    fn class(&self) -> Class;
}

/// The summary of one finished invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub duration: Duration,
    pub counters: Counters,
    pub cold: bool,
}

/// Runs `work` as one invocation named `name` (a route key or a job label), then writes its summary: one
/// CloudWatch Embedded Metric Format line (see [`metrics_line`]), and a warning when it was slow, query-heavy or
/// failed.
pub async fn scope<F>(trigger: Trigger, name: &str, request_id: &str, work: F) -> (F::Output, Summary)
where
    F: Future,
    F::Output: Outcome,
{
    let cold = take_cold();
    let span = tracing::info_span!("invocation", request_id, function = function_name(), cold);
    let started = Instant::now();
    let (output, counters) = COUNTERS
        .scope(Cell::new(Counters::default()), async {
            let output = work.await;
            (output, COUNTERS.with(Cell::get))
        })
        .instrument(span.clone())
        .await;
    let summary = Summary { duration: started.elapsed(), counters, cold };
    let (status, class) = (output.status(), output.class());
    let line = metrics_line(trigger, name, request_id, &status, class, &summary, chrono::Utc::now().timestamp_millis());
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
    span.in_scope(|| warn_if_notable(name, &status, class, &summary));
    (output, summary)
}

static NAMESPACE: OnceLock<String> = OnceLock::new();

/// The metrics' namespace when `METRICS_NAMESPACE` is not set (and before the platform has set it).
pub const DEFAULT_METRICS_NAMESPACE: &str = "quiz";

/// Sets the CloudWatch namespace of this instance's metrics (the configuration's `METRICS_NAMESPACE`, the stack's
/// name when deployed); the platform does so at start-up. A second call is ignored.
pub fn set_metrics_namespace(namespace: &str) {
    let _ = NAMESPACE.set(namespace.to_string());
}

/// The namespace of this project's metrics: [`DEFAULT_METRICS_NAMESPACE`] until the platform has set it.
fn namespace() -> &'static str {
    NAMESPACE.get().map_or(DEFAULT_METRICS_NAMESPACE, String::as_str)
}

/// One invocation's summary as a CloudWatch Embedded Metric Format record: a JSON log line that CloudWatch Logs
/// turns into metrics, with no agent and no API call. Dimensions are `Function` (the binary's name) and
/// `Trigger`; the other fields (route or job, status, request id) are searchable properties of the line.
///
/// Every record has `Latency`, `Invocations`, `Errors`, `SqlStatements`, `CacheHits`, `CacheMisses` and
/// `ColdStarts`; an HTTP one adds `ServerErrors` and `ClientErrors`, a job's `JobsDone`, `JobsRetried` and
/// `JobsDeadLettered`. Counts are 0 or 1 per record, so a sum is a count and an average is a rate.
pub fn metrics_line(
    trigger: Trigger,
    name: &str,
    request_id: &str,
    status: &str,
    class: Class,
    s: &Summary,
    timestamp_ms: i64,
) -> String {
    let flag = |b: bool| u32::from(b);
    let c = s.counters;
    let mut metrics: Vec<(&str, &str, serde_json::Value)> = vec![
        ("Latency", "Milliseconds", ((s.duration.as_secs_f64() * 1_000_000.0).round() / 1000.0).into()),
        ("Invocations", "Count", 1.into()),
        ("Errors", "Count", flag(class.is_failure()).into()),
        ("SqlStatements", "Count", c.sql_statements.into()),
        ("CacheHits", "Count", c.cache_hits.into()),
        ("CacheMisses", "Count", c.cache_misses.into()),
        ("ColdStarts", "Count", flag(s.cold).into()),
    ];
    if trigger == Trigger::Http {
        metrics.push(("ServerErrors", "Count", flag(class == Class::ServerError).into()));
        metrics.push(("ClientErrors", "Count", flag(class == Class::ClientError).into()));
    } else {
        metrics.push(("JobsDone", "Count", flag(class == Class::Done).into()));
        metrics.push(("JobsRetried", "Count", flag(class == Class::Retried).into()));
        metrics.push(("JobsDeadLettered", "Count", flag(class == Class::DeadLettered).into()));
    }
    let mut record = serde_json::Map::new();
    record.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [["Function"], ["Trigger"]],
                "Metrics": metrics.iter().map(|(n, unit, _)| serde_json::json!({"Name": n, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    record.insert("Function".into(), function_name().into());
    record.insert("Trigger".into(), trigger.as_str().into());
    for (n, _, value) in &metrics {
        record.insert((*n).into(), value.clone());
    }
    record.insert("level".into(), (if class.is_failure() { "WARN" } else { "INFO" }).into());
    record.insert("summary".into(), name.into());
    record.insert("status".into(), status.into());
    record.insert("request_id".into(), request_id.into());
    serde_json::Value::Object(record).to_string()
}

fn warn_if_notable(name: &str, status: &str, class: Class, s: &Summary) {
    let duration_ms = s.duration.as_secs_f64() * 1000.0;
    let c = s.counters;
    if s.duration > SLOW_REQUEST || c.sql_statements > MANY_STATEMENTS {
        tracing::warn!(
            summary = name, %status, duration_ms, sql_statements = c.sql_statements,
            cache_hits = c.cache_hits, cache_misses = c.cache_misses,
            "slow or query-heavy: over {} ms or {} SQL statements", SLOW_REQUEST.as_millis(), MANY_STATEMENTS
        );
    } else if class.is_failure() {
        tracing::warn!(summary = name, %status, duration_ms, "failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ok200;
    impl Outcome for Ok200 {
        fn status(&self) -> String {
            "200".into()
        }
        fn class(&self) -> Class {
            Class::Success
        }
    }

    #[tokio::test]
    async fn a_scope_counts_what_runs_inside_it_and_nothing_outside() {
        count_sql_statement(); // outside any scope: ignored, not a panic
        let (_, summary) = scope(Trigger::Http, "test", "req-1", async {
            count_sql_statement();
            count_sql_statement();
            count_cache_hit();
            count_cache_miss();
            Ok200
        })
        .await;
        assert_eq!(summary.counters, Counters { sql_statements: 2, cache_hits: 1, cache_misses: 1 });
        assert_eq!(current(), None);
    }

    fn summary(cold: bool) -> Summary {
        Summary {
            duration: Duration::from_micros(12_345),
            counters: Counters { sql_statements: 3, cache_hits: 2, cache_misses: 1 },
            cold,
        }
    }

    #[test]
    fn a_route_summary_is_an_embedded_metric_format_record() {
        let line = metrics_line(
            Trigger::Http,
            "GET /api/v1/topics",
            "req-9",
            "503",
            Class::ServerError,
            &summary(true),
            1_700_000_000_000,
        );
        let record: serde_json::Value = serde_json::from_str(&line).unwrap();
        let directive = &record["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(record["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(directive["Dimensions"], serde_json::json!([["Function"], ["Trigger"]]));
        // Every metric the directive declares is a number at the top level, and every dimension a string there.
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(record[name].is_number(), "{name} is declared but not a number");
        }
        assert!(record["Function"].is_string() && record["Trigger"] == "http");
        assert_eq!(record["Latency"], 12.345);
        assert_eq!((record["ServerErrors"].as_f64(), record["ClientErrors"].as_f64()), (Some(1.0), Some(0.0)));
        assert_eq!((record["Errors"].as_f64(), record["ColdStarts"].as_f64()), (Some(1.0), Some(1.0)));
        assert_eq!(
            (record["SqlStatements"].as_f64(), record["CacheHits"].as_f64(), record["CacheMisses"].as_f64()),
            (Some(3.0), Some(2.0), Some(1.0))
        );
        assert_eq!(
            (record["summary"].as_str(), record["status"].as_str(), record["request_id"].as_str()),
            (Some("GET /api/v1/topics"), Some("503"), Some("req-9"))
        );
        assert!(record.get("JobsDone").is_none(), "a route has no job outcome");
    }

    #[test]
    fn a_job_summary_counts_its_outcome_once() {
        for (class, done, retried, dead) in
            [(Class::Done, 1.0, 0.0, 0.0), (Class::Retried, 0.0, 1.0, 0.0), (Class::DeadLettered, 0.0, 0.0, 1.0)]
        {
            let line = metrics_line(Trigger::Sqs, "job:send_email", "m-1", "x", class, &summary(false), 0);
            let r: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(
                (r["JobsDone"].as_f64(), r["JobsRetried"].as_f64(), r["JobsDeadLettered"].as_f64()),
                (Some(done), Some(retried), Some(dead)),
                "{class:?}"
            );
            assert_eq!(r["Errors"].as_f64(), Some(if class == Class::Done { 0.0 } else { 1.0 }));
            assert!(r.get("ServerErrors").is_none());
        }
    }
}
