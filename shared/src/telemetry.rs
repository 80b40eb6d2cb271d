//! Telemetry: JSON log lines and the per-request summary.
//!
//! Each invocation (an HTTP request, one SQS message, a scheduled run) runs inside a [`scope`]: a tracing span
//! carrying the request id, the function name and whether this instance was cold, plus task-local counters that
//! the database and cache modules bump. When the scope ends, one summary line reports status, duration, SQL
//! statements and cache hits and misses, and a warning is logged above 1 s or 20 statements (the thresholds of
//! the earlier system's monitoring middleware).

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

/// Sets up JSON logging for a function; call once at the start of `main`. `RUST_LOG` sets the level.
pub fn init(function_name: &str) {
    let _ = FUNCTION_NAME.set(function_name.to_string());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .without_time()
        .try_init();
}

/// The name the function was started under (its binary name).
pub fn function_name() -> &'static str {
    FUNCTION_NAME.get().map(String::as_str).unwrap_or("unknown")
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
pub(crate) fn count_cache_hit() {
    bump(|c| c.cache_hits += 1);
}
pub(crate) fn count_cache_miss() {
    bump(|c| c.cache_misses += 1);
}

/// The counters of the scope this task is in, if any.
pub fn current() -> Option<Counters> {
    COUNTERS.try_with(Cell::get).ok()
}

/// How an invocation ended, for its summary line: an HTTP status, or a job outcome.
pub trait Outcome {
    fn status(&self) -> String;
    fn is_failure(&self) -> bool;
}

/// The summary of one finished invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub duration: Duration,
    pub counters: Counters,
    pub cold: bool,
}

/// Runs `work` as one invocation named `name` (a route or job), then logs its summary line.
pub async fn scope<F>(name: &str, request_id: &str, work: F) -> (F::Output, Summary)
where
    F: Future,
    F::Output: Outcome,
{
    let cold = COLD.swap(false, Ordering::Relaxed);
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
    span.in_scope(|| log_summary(name, &output, &summary));
    (output, summary)
}

fn log_summary(name: &str, outcome: &impl Outcome, s: &Summary) {
    let duration_ms = s.duration.as_secs_f64() * 1000.0;
    let c = s.counters;
    let status = outcome.status();
    if s.duration > SLOW_REQUEST || c.sql_statements > MANY_STATEMENTS {
        tracing::warn!(
            summary = name, %status, duration_ms, sql_statements = c.sql_statements,
            cache_hits = c.cache_hits, cache_misses = c.cache_misses,
            "slow or query-heavy: over {} ms or {} SQL statements", SLOW_REQUEST.as_millis(), MANY_STATEMENTS
        );
    } else if outcome.is_failure() {
        tracing::warn!(
            summary = name, %status, duration_ms, sql_statements = c.sql_statements,
            cache_hits = c.cache_hits, cache_misses = c.cache_misses, "done"
        );
    } else {
        tracing::info!(
            summary = name, %status, duration_ms, sql_statements = c.sql_statements,
            cache_hits = c.cache_hits, cache_misses = c.cache_misses, "done"
        );
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
        fn is_failure(&self) -> bool {
            false
        }
    }

    #[tokio::test]
    async fn a_scope_counts_what_runs_inside_it_and_nothing_outside() {
        count_sql_statement(); // outside any scope: ignored, not a panic
        let (_, summary) = scope("test", "req-1", async {
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
}
