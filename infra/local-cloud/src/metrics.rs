//! `local-cloud metrics`: what a run did, at a glance, from the functions' own log lines.
//!
//! Every invocation writes one CloudWatch Embedded Metric Format record (`platform::telemetry::metrics_line`); in
//! AWS, CloudWatch turns those into the dashboard's metrics. Locally they are in `.local/functions/<name>.log`,
//! and this summarises them per route or job: count, errors, latency p50 and p99, cache hit rate, SQL statements
//! per invocation, cold starts, and what a million such invocations would cost on Lambda.
//!
//! The cost is Lambda's list price for x86_64 in us-east-1 (docs/capacity.md, price 1: 0.20 USD a million
//! requests and 0.0000166667 USD a GB-second), from the invocations' own durations, each rounded up to the
//! millisecond as Lambda bills them, at the function's `MemorySize`. It leaves out what Lambda bills besides
//! (the init phase of cold starts, ephemeral storage over 512 MB) and everything that is not Lambda (API Gateway,
//! the database, the cache…; docs/capacity.md has those).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

/// Lambda's list prices (x86_64, us-east-1), as docs/capacity.md cites them.
const USD_PER_REQUEST: f64 = 0.20 / 1_000_000.0;
const USD_PER_GB_SECOND: f64 = 0.000_016_666_7;

/// What `invocations` of these durations (milliseconds) cost per million, at `memory_mb`.
fn usd_per_million(durations_ms: &[f64], memory_mb: u64) -> f64 {
    if durations_ms.is_empty() {
        return 0.0;
    }
    let billed_ms: f64 = durations_ms.iter().map(|ms| ms.ceil().max(1.0)).sum();
    let gb_seconds = billed_ms / 1000.0 * memory_mb as f64 / 1024.0;
    (USD_PER_REQUEST + gb_seconds / durations_ms.len() as f64 * USD_PER_GB_SECOND) * 1_000_000.0
}

/// One route's or job's records.
#[derive(Debug, Default)]
struct Group {
    function: String,
    latencies: Vec<f64>,
    errors: u64,
    client_errors: u64,
    cache_hits: u64,
    cache_misses: u64,
    sql: u64,
    cold: u64,
}

/// The value at quantile `q` of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Reads every record at or after `since_ms` (all when `None`) from the log files in `dir`; `memory_mb` is each
/// function's `MemorySize` by binary name (a function not in it is priced at 128 MB).
pub fn summarise(dir: &Path, since_ms: Option<i64>, memory_mb: &BTreeMap<String, u64>) -> std::io::Result<Value> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "log")) {
        let text = std::fs::read_to_string(path)?;
        for line in text.lines().filter(|l| l.contains("\"_aws\"")) {
            let Ok(record) = serde_json::from_str::<Value>(line) else { continue };
            let timestamp = record["_aws"]["Timestamp"].as_i64().unwrap_or(0);
            if since_ms.is_some_and(|since| timestamp < since) {
                continue;
            }
            let count = |name: &str| record[name].as_f64().unwrap_or(0.0) as u64;
            let name = record["summary"].as_str().unwrap_or("?").to_string();
            let group = groups.entry(name).or_default();
            group.function = record["Function"].as_str().unwrap_or("?").to_string();
            group.latencies.push(record["Latency"].as_f64().unwrap_or(0.0));
            group.errors += count("Errors");
            group.client_errors += count("ClientErrors");
            group.cache_hits += count("CacheHits");
            group.cache_misses += count("CacheMisses");
            group.sql += count("SqlStatements");
            group.cold += count("ColdStarts");
        }
    }
    let mut rows = Vec::new();
    let (mut total, mut hits, mut misses, mut errors) = (0u64, 0u64, 0u64, 0u64);
    for (name, mut g) in groups {
        g.latencies.sort_by(f64::total_cmp);
        let n = g.latencies.len() as u64;
        total += n;
        hits += g.cache_hits;
        misses += g.cache_misses;
        errors += g.errors;
        let lookups = g.cache_hits + g.cache_misses;
        rows.push(json!({
            "name": name,
            "function": g.function,
            "count": n,
            "errors": g.errors,
            "client_errors": g.client_errors,
            "p50_ms": quantile(&g.latencies, 0.5),
            "p99_ms": quantile(&g.latencies, 0.99),
            "cache_hit_rate": (lookups > 0).then(|| g.cache_hits as f64 / lookups as f64),
            "sql_per_invocation": g.sql as f64 / n.max(1) as f64,
            "cold_starts": g.cold,
            "usd_per_million": usd_per_million(&g.latencies, memory_mb.get(&g.function).copied().unwrap_or(128)),
        }));
    }
    let lookups = hits + misses;
    Ok(json!({
        "invocations": total,
        "errors": errors,
        "cache_hit_rate": (lookups > 0).then(|| hits as f64 / lookups as f64),
        "rows": rows,
    }))
}

/// The summary as a table for a terminal.
pub fn table(summary: &Value) -> String {
    let percent = |v: &Value| v.as_f64().map_or("-".to_string(), |r| format!("{:.1} %", r * 100.0));
    let mut out = format!(
        "{:<44} {:>7} {:>6} {:>9} {:>9} {:>9} {:>7} {:>5} {:>10}\n",
        "route or job", "count", "5xx/!", "p50 ms", "p99 ms", "cache", "sql", "cold", "USD / 1 M"
    );
    for row in summary["rows"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:<44} {:>7} {:>6} {:>9.2} {:>9.2} {:>9} {:>7.1} {:>5} {:>10.2}\n",
            row["name"].as_str().unwrap_or("?"),
            row["count"].as_u64().unwrap_or(0),
            row["errors"].as_u64().unwrap_or(0),
            row["p50_ms"].as_f64().unwrap_or(0.0),
            row["p99_ms"].as_f64().unwrap_or(0.0),
            percent(&row["cache_hit_rate"]),
            row["sql_per_invocation"].as_f64().unwrap_or(0.0),
            row["cold_starts"].as_u64().unwrap_or(0),
            row["usd_per_million"].as_f64().unwrap_or(0.0),
        ));
    }
    out.push_str(&format!(
        "{} invocations, {} errors (5xx or failed jobs), cache hit rate {}\n",
        summary["invocations"].as_u64().unwrap_or(0),
        summary["errors"].as_u64().unwrap_or(0),
        percent(&summary["cache_hit_rate"])
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(function: &str, name: &str, latency: f64, hits: u32, misses: u32, errors: u32, timestamp: i64) -> String {
        json!({"_aws": {"Timestamp": timestamp, "CloudWatchMetrics": []}, "Function": function, "summary": name,
               "Latency": latency, "CacheHits": hits, "CacheMisses": misses, "Errors": errors, "SqlStatements": 1,
               "ColdStarts": 0})
        .to_string()
    }

    #[test]
    fn records_are_grouped_per_route_with_quantiles_and_hit_rates() {
        let dir = std::env::temp_dir().join(format!("metrics-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut lines: Vec<String> =
            (1..=100).map(|i| record("list-topics", "GET /topics", i as f64, 1, 0, 0, 2000)).collect();
        lines.push(record("list-topics", "GET /topics", 500.0, 0, 1, 1, 1000)); // before `since`: left out
        lines.push("{\"level\":\"INFO\",\"message\":\"not a metric\"}".into());
        std::fs::write(dir.join("list-topics.log"), lines.join("\n")).unwrap();
        std::fs::write(dir.join("send-email.log"), record("send-email", "job:send_email", 7.0, 0, 0, 1, 3000)).unwrap();

        let memory = BTreeMap::from([("list-topics".to_string(), 1024)]);
        let summary = summarise(&dir, Some(1500), &memory).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(summary["invocations"], 101);
        assert_eq!(summary["errors"], 1);
        let topics = &summary["rows"][0];
        assert_eq!((topics["name"].as_str(), topics["count"].as_u64()), (Some("GET /topics"), Some(100)));
        assert_eq!((topics["p50_ms"].as_f64(), topics["p99_ms"].as_f64()), (Some(50.0), Some(99.0)));
        assert_eq!(topics["cache_hit_rate"].as_f64(), Some(1.0));
        assert_eq!(summary["rows"][1]["cache_hit_rate"], Value::Null, "a job that never read the cache has no rate");
        assert!(table(&summary).contains("GET /topics"));
        // 1..=100 ms at 1 GB, 50.5 ms on average: 0.84 USD a million in duration, 1.04 with the requests; and
        // send-email's 7 ms at the 128 MB it is priced at without a MemorySize.
        let cost = topics["usd_per_million"].as_f64().unwrap();
        assert!((cost - (0.20 + 0.0505 * 16.6667)).abs() < 1e-3, "{cost}");
        let mail = summary["rows"][1]["usd_per_million"].as_f64().unwrap();
        assert!((mail - (0.20 + 0.007 / 8.0 * 16.6667)).abs() < 1e-3, "{mail}");
    }
}
