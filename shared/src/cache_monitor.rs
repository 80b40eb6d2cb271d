//! `cache-monitor` (DOMAIN §8: the earlier `manage.py cache_monitor`, now answerable in production): invoked
//! directly with `{"action": "check" | "stats" | "clear" | "test"}`.
//!
//! - `check`: a write, read and delete round trip, with each step's latency;
//! - `stats`: server version, uptime, memory (used, peak, `maxmemory` and its policy), clients, this project's
//!   keys, hits, misses and hit rate (a warning under 50 %), evictions;
//! - `clear`: deletes this project's keys only (by prefix, walking the keyspace with `SCAN`, never `KEYS`);
//! - `test`: writes, reads and deletes 1000 keys, pipelined, seven rounds, and reports each phase's median ops/s.
//!
//! Every key it writes lives under the project's prefix and expires within a minute, even if a run stops halfway.

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use platform::Platform;
use platform::trigger::{JobError, ReportFuture};

/// Keys the speed test writes, reads and deletes.
pub const SPEED_TEST_KEYS: usize = 1000;
/// Rounds of the speed test; each phase reports its median round.
pub const SPEED_TEST_ROUNDS: usize = 7;
/// Below this hit rate `stats` warns, as the earlier monitor did.
pub const HIT_RATE_WARNING: f64 = 0.5;
/// Keys asked for per `SCAN` step.
const SCAN_COUNT: usize = 1000;
/// Seconds the keys of `check` and `test` live, should a run stop before deleting them.
const SCRATCH_TTL: u64 = 60;

#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum Action {
    Check,
    Stats,
    Clear,
    Test,
}

/// The function's handler: the action's report, or an error naming what went wrong.
pub fn invoke(platform: &'static Platform, event: serde_json::Value) -> ReportFuture {
    Box::pin(async move {
        let action: Action = serde_json::from_value(event)
            .map_err(|e| JobError(format!(r#"expected {{"action": "check" | "stats" | "clear" | "test"}}: {e}"#)))?;
        let report = match action {
            Action::Check => serde_json::to_value(check(platform).await)?,
            Action::Stats => serde_json::to_value(stats(platform).await?)?,
            Action::Clear => serde_json::to_value(clear(platform).await?)?,
            Action::Test => serde_json::to_value(speed_test(platform).await?)?,
        };
        Ok(report)
    })
}

fn redis_error(e: redis::RedisError) -> JobError {
    JobError(format!("redis: {e}"))
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// The round trip's result.
#[derive(Debug, Serialize)]
pub struct Check {
    pub ok: bool,
    pub write_ms: f64,
    pub read_ms: f64,
    pub delete_ms: f64,
    pub total_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Writes, reads back and deletes one key. A Redis that is down is a report (`ok: false`), not an error: the
/// check answers the question.
pub async fn check(platform: &Platform) -> Check {
    let key = platform.cache.key(&format!("cache-monitor:check:{}", Uuid::new_v4().simple()));
    let value = Uuid::new_v4().to_string();
    let cache = &platform.cache;
    let started = Instant::now();
    let mut report = Check { ok: false, write_ms: 0.0, read_ms: 0.0, delete_ms: 0.0, total_ms: 0.0, error: None };
    let outcome: Result<(), String> = async {
        let step = Instant::now();
        cache
            .run::<()>(redis::cmd("SET").arg(&key).arg(&value).arg("EX").arg(SCRATCH_TTL))
            .await
            .map_err(|e| e.to_string())?;
        report.write_ms = ms_since(step);
        let step = Instant::now();
        let read: Option<String> = cache.run(redis::cmd("GET").arg(&key)).await.map_err(|e| e.to_string())?;
        report.read_ms = ms_since(step);
        let step = Instant::now();
        cache.run::<()>(redis::cmd("DEL").arg(&key)).await.map_err(|e| e.to_string())?;
        report.delete_ms = ms_since(step);
        if read.as_deref() != Some(value.as_str()) {
            return Err(format!("read back {read:?}, not what was written"));
        }
        Ok(())
    }
    .await;
    report.total_ms = ms_since(started);
    match outcome {
        Ok(()) => report.ok = true,
        Err(e) => report.error = Some(e),
    }
    report
}

/// The server's state, from one `INFO` and a `SCAN` of the project's prefix.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub redis_version: String,
    pub uptime_seconds: u64,
    pub used_memory_bytes: u64,
    pub used_memory_peak_bytes: u64,
    /// 0 means no limit.
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: String,
    pub connected_clients: u64,
    pub key_prefix: String,
    pub project_keys: u64,
    pub hits: u64,
    pub misses: u64,
    /// `hits / (hits + misses)`, none before the first read.
    pub hit_rate: Option<f64>,
    pub evicted_keys: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `INFO`'s `field:value` lines.
fn parse_info(text: &str) -> HashMap<&str, &str> {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.trim_end().split_once(':')).collect()
}

pub async fn stats(platform: &Platform) -> Result<Stats, JobError> {
    let info: String = platform.cache.run(&redis::cmd("INFO")).await.map_err(redis_error)?;
    let info = parse_info(&info);
    let number = |field: &str| info.get(field).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let (hits, misses) = (number("keyspace_hits"), number("keyspace_misses"));
    let hit_rate = (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64);
    let mut warnings = Vec::new();
    if let Some(rate) = hit_rate.filter(|r| *r < HIT_RATE_WARNING) {
        warnings.push(format!("hit rate {:.1} % is under {:.0} %", rate * 100.0, HIT_RATE_WARNING * 100.0));
    }
    Ok(Stats {
        redis_version: info.get("redis_version").unwrap_or(&"unknown").to_string(),
        uptime_seconds: number("uptime_in_seconds"),
        used_memory_bytes: number("used_memory"),
        used_memory_peak_bytes: number("used_memory_peak"),
        maxmemory_bytes: number("maxmemory"),
        maxmemory_policy: info.get("maxmemory_policy").unwrap_or(&"unknown").to_string(),
        connected_clients: number("connected_clients"),
        key_prefix: platform.cache.prefix().to_string(),
        project_keys: project_keys(platform, |_| async { Ok(()) }).await?,
        hits,
        misses,
        hit_rate,
        evicted_keys: number("evicted_keys"),
        warnings,
    })
}

/// Walks the project's keys with `SCAN … MATCH <prefix>*`, handing each batch to `each`; returns the count.
async fn project_keys<F, Fut>(platform: &Platform, mut each: F) -> Result<u64, JobError>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(), JobError>>,
{
    let prefix = platform.cache.prefix();
    if prefix.is_empty() {
        return Err(JobError::new("CACHE_KEY_PREFIX is empty: the project's keys cannot be told from others"));
    }
    // The prefix is matched literally: glob characters in it are escaped.
    let pattern: String =
        prefix.chars().flat_map(|c| if "*?[]\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect::<String>()
            + "*";
    let mut cursor: u64 = 0;
    let mut count = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = platform
            .cache
            .run(redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(SCAN_COUNT))
            .await
            .map_err(redis_error)?;
        count += keys.len() as u64;
        if !keys.is_empty() {
            each(keys).await?;
        }
        if next == 0 {
            return Ok(count);
        }
        cursor = next;
    }
}

#[derive(Debug, Serialize)]
pub struct Cleared {
    pub key_prefix: String,
    pub deleted: u64,
}

/// Deletes the project's keys (`UNLINK`, so Redis frees them off its main thread), nobody else's.
pub async fn clear(platform: &Platform) -> Result<Cleared, JobError> {
    let deleted = project_keys(platform, |keys| async move {
        platform.cache.run::<()>(redis::cmd("UNLINK").arg(&keys)).await.map_err(redis_error)
    })
    .await?;
    tracing::warn!(deleted, prefix = platform.cache.prefix(), "cache cleared");
    Ok(Cleared { key_prefix: platform.cache.prefix().to_string(), deleted })
}

/// One phase of the speed test: the median of its rounds.
#[derive(Debug, Serialize)]
pub struct Phase {
    /// The median round's duration.
    pub ms: f64,
    /// Keys per second at the median round.
    pub ops_per_second: f64,
    /// Every round's ops/s, in order: the spread a one-off figure would hide.
    pub rounds_ops_per_second: Vec<f64>,
}

impl Phase {
    fn of(durations_ms: &[f64], ops: usize) -> Self {
        let rate = |ms: f64| (ops as f64 / (ms / 1000.0).max(f64::EPSILON)).round();
        let mut sorted = durations_ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let ms = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        Self { ms, ops_per_second: rate(ms), rounds_ops_per_second: durations_ms.iter().map(|&d| rate(d)).collect() }
    }
}

#[derive(Debug, Serialize)]
pub struct SpeedTest {
    pub keys: usize,
    pub rounds: usize,
    pub write: Phase,
    pub read: Phase,
    pub delete: Phase,
}

/// Writes, reads and deletes [`SPEED_TEST_KEYS`] keys, one pipeline per phase, [`SPEED_TEST_ROUNDS`] times (fresh
/// keys each round); checks every value read back, and reports each phase's median round. One round of 1000
/// keys takes a few milliseconds, so a single one mostly measures how the scheduler treated it.
pub async fn speed_test(platform: &Platform) -> Result<SpeedTest, JobError> {
    let mut timings = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..SPEED_TEST_ROUNDS {
        for (phase, ms) in speed_round(platform).await?.into_iter().enumerate() {
            timings[phase].push(ms);
        }
    }
    let phase = |i: usize| Phase::of(&timings[i], SPEED_TEST_KEYS);
    Ok(SpeedTest {
        keys: SPEED_TEST_KEYS,
        rounds: SPEED_TEST_ROUNDS,
        write: phase(0),
        read: phase(1),
        delete: phase(2),
    })
}

/// One round: the write, read and delete pipelines' durations in milliseconds.
async fn speed_round(platform: &Platform) -> Result<[f64; 3], JobError> {
    let run = Uuid::new_v4().simple().to_string();
    let keys: Vec<String> =
        (0..SPEED_TEST_KEYS).map(|i| platform.cache.key(&format!("cache-monitor:speed:{run}:{i}"))).collect();
    let value = |i: usize| format!("value-{i}");

    let mut writes = redis::pipe();
    for (i, key) in keys.iter().enumerate() {
        writes.cmd("SET").arg(key).arg(value(i)).arg("EX").arg(SCRATCH_TTL).ignore();
    }
    let started = Instant::now();
    platform.cache.run_pipeline::<()>(&writes).await.map_err(redis_error)?;
    let write = ms_since(started);

    let mut reads = redis::pipe();
    for key in &keys {
        reads.cmd("GET").arg(key);
    }
    let started = Instant::now();
    let values: Vec<Option<String>> = platform.cache.run_pipeline(&reads).await.map_err(redis_error)?;
    let read = ms_since(started);
    if let Some(i) = (0..keys.len()).find(|&i| values.get(i).and_then(Option::as_deref) != Some(value(i).as_str())) {
        return Err(JobError(format!("key {i} did not read back what was written")));
    }

    let mut deletes = redis::pipe();
    for key in &keys {
        deletes.cmd("DEL").arg(key).ignore();
    }
    let started = Instant::now();
    platform.cache.run_pipeline::<()>(&deletes).await.map_err(redis_error)?;
    Ok([write, read, ms_since(started)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lines_become_fields_and_section_headers_are_skipped() {
        let info = parse_info(
            "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\n\r\n# Memory\r\nmaxmemory_policy:allkeys-lru\r\n",
        );
        assert_eq!(info.get("redis_version"), Some(&"7.0.15"));
        assert_eq!(info.get("maxmemory_policy"), Some(&"allkeys-lru"));
        assert_eq!(info.len(), 3);
    }

    #[test]
    fn an_unknown_action_is_refused() {
        assert!(serde_json::from_value::<Action>(serde_json::json!({"action": "flushall"})).is_err());
        assert!(serde_json::from_value::<Action>(serde_json::json!({})).is_err());
        assert!(matches!(serde_json::from_value::<Action>(serde_json::json!({"action": "stats"})), Ok(Action::Stats)));
    }
}
