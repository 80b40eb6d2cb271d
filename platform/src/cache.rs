//! Cache: Redis through one multiplexed, reconnecting connection per instance.
//!
//! The cache may cost speed, never correctness. Every read that fails (Redis down, timed out, a value that no
//! longer parses) is a miss, and every write that fails is logged and forgotten; [`Cache::get_or_load`] then
//! answers from the loader, which reads PostgreSQL, the source of truth. After a failure reads and writes skip
//! the cache for a short cool-down, so an outage does not add a connect attempt to every request; invalidations
//! never wait for it ([`Cache::invalidate`]), since a value this instance failed to delete may be read by others.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::DEPENDENCY_TIMEOUT;
use crate::telemetry;

/// How long the cache is bypassed after Redis failed.
const COOL_DOWN: Duration = Duration::from_secs(1);

/// The instance's cache handle. Keys passed in are relative; the configured prefix is added here.
pub struct Cache {
    prefix: String,
    manager: Option<ConnectionManager>,
    /// Until when (ms since the epoch) Redis is skipped after a failure.
    skip_until_ms: AtomicU64,
    /// Full keys whose deletion Redis missed (it was away): deleted on the next successful contact, so an
    /// invalidation lost in an outage cannot leave a stale value behind once Redis answers again.
    pending_deletes: std::sync::Mutex<Vec<String>>,
}

impl Cache {
    /// Prepares the connection without opening it; an unusable URL leaves the cache disabled (with a warning),
    /// not the function.
    pub fn new(url: &str, prefix: &str) -> Self {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEPENDENCY_TIMEOUT))
            .set_response_timeout(Some(DEPENDENCY_TIMEOUT))
            .set_number_of_retries(0);
        let manager = redis::Client::open(url)
            .and_then(|client| ConnectionManager::new_lazy_with_config(client, config))
            .inspect_err(|e| tracing::warn!(error = %e, "cache disabled: REDIS_URL is unusable"))
            .ok();
        Self {
            prefix: prefix.to_string(),
            manager,
            skip_until_ms: AtomicU64::new(0),
            pending_deletes: Default::default(),
        }
    }

    /// The full Redis key for a relative key.
    pub fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The connection, unless Redis failed a moment ago; deletions missed meanwhile are made first.
    async fn connection(&self) -> Option<ConnectionManager> {
        if now_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        let mut conn = self.manager.clone()?;
        let missed: Vec<String> = self.pending_deletes.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default();
        if !missed.is_empty() {
            if let Err(e) = conn.del::<_, ()>(&missed).await {
                self.defer_full(missed);
                self.failed("del (missed)", "-", &e);
                return None;
            }
            tracing::info!(keys = missed.len(), "deleted the keys Redis missed while it was away");
        }
        Some(conn)
    }

    fn defer_full(&self, keys: Vec<String>) {
        if let Ok(mut pending) = self.pending_deletes.lock() {
            pending.extend(keys);
            // Bounded: an instance that cannot reach Redis for long keeps the most recent invalidations.
            let excess = pending.len().saturating_sub(10_000);
            pending.drain(..excess);
        }
    }

    /// Remembers keys to delete once Redis answers again (their invalidation could not reach it now).
    pub fn defer_delete(&self, keys: &[&str]) {
        self.defer_full(keys.iter().map(|k| self.key(k)).collect());
    }

    fn failed(&self, op: &str, key: &str, e: &redis::RedisError) {
        self.skip_until_ms.store(now_ms() + COOL_DOWN.as_millis() as u64, Ordering::Relaxed);
        tracing::warn!(error = %e, op, key, "cache unavailable; answering without it");
    }

    /// Runs a raw command against Redis (for health checks and operations), ignoring the cool-down: the caller
    /// wants to know whether Redis answers now.
    pub async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, redis::RedisError> {
        let mut conn = self.direct()?;
        self.bounded("command", cmd.query_async(&mut conn)).await
    }

    /// As [`Cache::run`], for a pipeline.
    pub async fn run_pipeline<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> Result<T, redis::RedisError> {
        let mut conn = self.direct()?;
        self.bounded("pipeline", pipe.query_async(&mut conn)).await
    }

    /// The connection regardless of the cool-down, for [`Cache::run`] and [`Cache::run_pipeline`].
    fn direct(&self) -> Result<ConnectionManager, redis::RedisError> {
        self.manager.clone().ok_or_else(|| redis::RedisError::from((redis::ErrorKind::Client, "cache disabled")))
    }

    /// Bounds a raw Redis call by the dependency timeout; a failure starts the cool-down.
    async fn bounded<T>(
        &self,
        op: &str,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> redis::RedisResult<T> {
        let result = tokio::time::timeout(DEPENDENCY_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out"))));
        if let Err(e) = &result {
            self.failed(op, "-", e);
        }
        result
    }

    /// Reads a JSON value; a failure or an unreadable value is a miss.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut conn = self.connection().await?;
        let full = self.key(key);
        match conn.get::<_, Option<Vec<u8>>>(&full).await {
            Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
                Ok(value) => Some(value),
                Err(e) => {
                    tracing::warn!(error = %e, key = full, "cached value no longer parses; treating as a miss");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                self.failed("get", &full, &e);
                None
            }
        }
    }

    /// Writes a JSON value with a lifetime; failures are logged, never returned.
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T, ttl: Duration) {
        let Some(mut conn) = self.connection().await else { return };
        let full = self.key(key);
        let Ok(bytes) = serde_json::to_vec(value) else { return };
        if let Err(e) = conn.set_ex::<_, _, ()>(&full, bytes, ttl.as_secs().max(1)).await {
            self.failed("set", &full, &e);
        }
    }

    /// Writes many JSON values with one lifetime in one pipelined round trip; failures are logged, never returned.
    pub async fn set_many<T: Serialize>(&self, entries: &[(String, T)], ttl: Duration) {
        let Some(mut conn) = self.connection().await else { return };
        let mut pipe = redis::pipe();
        for (key, value) in entries {
            let Ok(bytes) = serde_json::to_vec(value) else { continue };
            pipe.set_ex(self.key(key), bytes, ttl.as_secs().max(1)).ignore();
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            self.failed("set (pipelined)", &format!("{} keys", entries.len()), &e);
        }
    }

    /// Deletes keys. Returns false when Redis could not be told (the keys are then deleted on the next contact),
    /// so a caller that must not leave a stale value can say so.
    pub async fn delete(&self, keys: &[&str]) -> bool {
        if keys.is_empty() {
            return true;
        }
        let full: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let mut pipe = redis::pipe();
        pipe.del(&full).ignore();
        if self.invalidate("del", &pipe).await {
            return true;
        }
        self.defer_full(full);
        false
    }

    /// Runs an invalidation — deletes, and the writes that must go with them — now. Unlike a read it ignores the
    /// cool-down, and when the first try fails it tries once more: after Redis restarts, this instance's
    /// connection is broken while every other instance already reads the restarted server, so an invalidation
    /// only deferred until the cool-down ends would let them serve the stale value meanwhile (a player would
    /// not see their own answer). The connection manager reconnects after the failed try, so the second one
    /// goes to the live server. False when Redis could not be told either time; the caller defers what it must.
    pub async fn invalidate(&self, op: &str, pipe: &redis::Pipeline) -> bool {
        let Some(mut conn) = self.manager.clone() else { return false };
        for attempt in 1..=2 {
            let result = tokio::time::timeout(DEPENDENCY_TIMEOUT, pipe.query_async::<()>(&mut conn))
                .await
                .unwrap_or_else(|_| Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out"))));
            match result {
                Ok(()) => {
                    if attempt > 1 {
                        tracing::info!(op, "invalidation reached Redis on a fresh connection");
                    }
                    return true;
                }
                Err(e) if attempt == 1 => {
                    tracing::info!(error = %e, op, "invalidation failed; trying once more on a fresh connection")
                }
                Err(e) => self.failed(op, "-", &e),
            }
        }
        false
    }

    /// Reads a JSON value from a field of a hash; like [`Cache::get`], any failure is a miss.
    pub async fn hash_get<T: DeserializeOwned>(&self, key: &str, field: &str) -> Option<T> {
        let mut conn = self.connection().await?;
        let full = self.key(key);
        match conn.hget::<_, _, Option<Vec<u8>>>(&full, field).await {
            Ok(bytes) => bytes.and_then(|b| serde_json::from_slice(&b).ok()),
            Err(e) => {
                self.failed("hget", &full, &e);
                None
            }
        }
    }

    /// Writes a JSON value to a field of a hash. The hash gets `ttl` when it is created and keeps it: the fields of
    /// one hash live and die together, so deleting the hash invalidates all of them at once.
    pub async fn hash_set<T: Serialize + ?Sized>(&self, key: &str, field: &str, value: &T, ttl: Duration) {
        let Some(mut conn) = self.connection().await else { return };
        let full = self.key(key);
        let Ok(bytes) = serde_json::to_vec(value) else { return };
        let written: Result<((), ()), _> = redis::pipe()
            .hset(&full, field, bytes)
            .cmd("EXPIRE")
            .arg(&full)
            .arg(ttl.as_secs().max(1))
            .arg("NX")
            .query_async(&mut conn)
            .await;
        if let Err(e) = written {
            self.failed("hset", &full, &e);
        }
    }

    /// Cache-aside over a hash field, as [`Cache::get_or_load`].
    pub async fn hash_get_or_load<T, E, F>(
        &self,
        key: &str,
        field: &str,
        ttl: Duration,
        loader: impl FnOnce() -> F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        if let Some(hit) = self.hash_get(key, field).await {
            telemetry::count_cache_hit();
            return Ok(hit);
        }
        telemetry::count_cache_miss();
        let value = loader().await?;
        self.hash_set(key, field, &value, ttl).await;
        Ok(value)
    }

    /// The connection for commands this module has no helper for (sorted sets), honouring the cool-down;
    /// callers report failures through [`Cache::report_failure`].
    pub async fn raw(&self) -> Option<ConnectionManager> {
        self.connection().await
    }

    /// Records a failed raw command: logged, and the cache is skipped for a moment.
    pub fn report_failure(&self, op: &str, key: &str, e: &redis::RedisError) {
        self.failed(op, key, e);
    }

    /// Counts one event against a limit of `limit` per `window` (a fixed window starting at the first event).
    /// Returns false once the limit is passed. Without Redis every event is allowed: a limit is a courtesy to
    /// the service, and refusing everyone during an outage would be worse than limiting no one.
    pub async fn within_limit(&self, key: &str, limit: u64, window: Duration) -> bool {
        let Some(mut conn) = self.connection().await else { return true };
        let full = self.key(key);
        let counted: Result<(u64, ()), _> = redis::pipe()
            .atomic()
            .incr(&full, 1u64)
            .cmd("EXPIRE")
            .arg(&full)
            .arg(window.as_secs().max(1))
            .arg("NX")
            .query_async(&mut conn)
            .await;
        match counted {
            Ok((count, ())) => count <= limit,
            Err(e) => {
                self.failed("incr", &full, &e);
                true
            }
        }
    }

    /// Sets a key only when it does not exist yet; true when this call set it. Without Redis, true: callers use
    /// it to skip repeated work, never to guard correctness.
    pub async fn set_once(&self, key: &str, ttl: Duration) -> bool {
        let Some(mut conn) = self.connection().await else { return true };
        let full = self.key(key);
        let set: Result<Option<String>, _> = redis::cmd("SET")
            .arg(&full)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await;
        match set {
            Ok(reply) => reply.is_some(),
            Err(e) => {
                self.failed("set-nx", &full, &e);
                true
            }
        }
    }

    /// Cache-aside: the cached value when there is one, else the loader's, which is then cached for `ttl`.
    /// Loader errors are returned as they are and nothing is cached.
    pub async fn get_or_load<T, E, F>(&self, key: &str, ttl: Duration, loader: impl FnOnce() -> F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        if let Some(hit) = self.get(key).await {
            telemetry::count_cache_hit();
            return Ok(hit);
        }
        telemetry::count_cache_miss();
        let value = loader().await?;
        self.set(key, &value, ttl).await;
        Ok(value)
    }

    /// Cache-aside for what may not exist: a value found is cached for `ttl`, an absence is not — asking for ids
    /// or slugs that do not exist cannot fill the cache, and a row created later is seen at once.
    pub async fn get_or_load_found<T, E, F>(
        &self,
        key: &str,
        ttl: Duration,
        loader: impl FnOnce() -> F,
    ) -> Result<Option<T>, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<Option<T>, E>>,
    {
        if let Some(hit) = self.get(key).await {
            telemetry::count_cache_hit();
            return Ok(Some(hit));
        }
        telemetry::count_cache_miss();
        let found = loader().await?;
        if let Some(value) = &found {
            self.set(key, value, ttl).await;
        }
        Ok(found)
    }

    /// [`Cache::get_or_load_found`] over a hash field.
    pub async fn hash_get_or_load_found<T, E, F>(
        &self,
        key: &str,
        field: &str,
        ttl: Duration,
        loader: impl FnOnce() -> F,
    ) -> Result<Option<T>, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<Option<T>, E>>,
    {
        if let Some(hit) = self.hash_get(key, field).await {
            telemetry::count_cache_hit();
            return Ok(Some(hit));
        }
        telemetry::count_cache_miss();
        let found = loader().await?;
        if let Some(value) = &found {
            self.hash_set(key, field, value, ttl).await;
        }
        Ok(found)
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
