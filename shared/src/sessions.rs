//! Sessions: how a signed-in user is recognised on every later request (DOMAIN §1).
//!
//! Sign-in gives the client a random 256-bit token once; only its SHA-256 is stored, so a copy of the database
//! signs nobody in. Requests present the token as a `session` cookie or an `Authorization: Bearer` header. A
//! session is read through the cache (PostgreSQL stays the truth), `last_used_at` is written at most every
//! [`TOUCH_INTERVAL`], and signing out deletes the row and the cached copy, so no instance accepts it again.
//! Expired rows are deleted by the daily clean-up job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use platform::Platform;
use platform::cache::Cache;
use platform::db::{Connection, Database, DbError};
use platform::trigger::ReportFuture;
use platform::trigger::schedule::ScheduledRun;

/// Rows deleted per statement: small enough that no statement holds locks for long on a large table.
pub const DELETE_BATCH: i64 = 1000;

/// `last_used_at` is written when the stored value is older than this, not on every request.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// How long a session stays in the cache; a touch re-writes it for less when it expires sooner ([`cache_ttl`]).
const CACHE_TTL: Duration = Duration::from_secs(3600);

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "session";

/// The secret a client holds: 32 random bytes as 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<secret>)")
    }
}

impl SessionToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(hex::encode(bytes)))
    }

    /// A token as a client presented it; anything but 64 hex characters is no token of ours.
    pub fn parse(presented: &str) -> Option<Self> {
        let presented = presented.trim();
        (presented.len() == 64 && presented.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(presented.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database stores.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    fn cache_key(&self) -> String {
        cache_key(&self.hash())
    }
}

fn cache_key(hash: &[u8]) -> String {
    format!("session:{}", hex::encode(hash))
}

/// A live session as the cache keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: i64,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

/// Starts a session for a user; the token is returned once and never stored.
pub async fn create(
    conn: &Connection,
    user_id: i64,
    ttl: Duration,
    user_agent: Option<&str>,
) -> Result<(SessionToken, Session), DbError> {
    let token =
        SessionToken::generate().map_err(|e| DbError::Config(format!("no randomness for a session token: {e}")))?;
    let ttl_seconds = ttl.as_secs() as f64;
    let user_agent = user_agent.map(|ua| ua.chars().take(256).collect::<String>());
    let row = conn
        .query_one(
            "INSERT INTO sessions (token_hash, user_id, expires_at, user_agent)
             VALUES ($1, $2, now() + make_interval(secs => $3), $4)
             RETURNING expires_at, last_used_at",
            &[&token.hash().as_slice(), &user_id, &ttl_seconds, &user_agent],
        )
        .await?;
    Ok((token, Session { user_id, expires_at: row.get("expires_at"), last_used_at: row.get("last_used_at") }))
}

/// The live session of a token, through the cache; `None` when it does not exist or has expired.
pub async fn lookup(db: &Database, cache: &Cache, token: &SessionToken) -> Result<Option<Session>, DbError> {
    let key = token.cache_key();
    let now = Utc::now();
    let session = cache
        .get_or_load_found(&key, CACHE_TTL, || async {
            let conn = db.connection().await?;
            let row = conn
                .query_opt(
                    "SELECT user_id, expires_at, last_used_at FROM sessions WHERE token_hash = $1 AND expires_at > now()",
                    &[&token.hash().as_slice()],
                )
                .await?;
            Ok::<_, DbError>(row.map(|r| Session {
                user_id: r.get("user_id"),
                expires_at: r.get("expires_at"),
                last_used_at: r.get("last_used_at"),
            }))
        })
        .await?;
    // A copy cached past the session's expiry is refused here, so the fixed cache lifetime cannot extend a session.
    let Some(mut session) = session.filter(|s| s.expires_at > now) else { return Ok(None) };
    if now - session.last_used_at > chrono::Duration::from_std(TOUCH_INTERVAL).unwrap_or_default() {
        let conn = db.connection().await?;
        conn.execute("UPDATE sessions SET last_used_at = now() WHERE token_hash = $1", &[&token.hash().as_slice()])
            .await?;
        session.last_used_at = now;
        cache.set(&key, &session, cache_ttl(&session, now)).await;
    }
    Ok(Some(session))
}

fn cache_ttl(session: &Session, now: DateTime<Utc>) -> Duration {
    (session.expires_at - now).to_std().unwrap_or_default().min(CACHE_TTL)
}

/// Ends one session: the row and the cached copy.
pub async fn revoke(db: &Database, cache: &Cache, token: &SessionToken) -> Result<(), DbError> {
    let conn = db.connection().await?;
    conn.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token.hash().as_slice()]).await?;
    forget(cache, &[token.hash().to_vec()]).await;
    Ok(())
}

/// Ends every session of a user (sign-out everywhere, a password change), returning how many there were.
pub async fn revoke_all(conn: &Connection, cache: &Cache, user_id: i64) -> Result<u64, DbError> {
    let rows = conn.query("DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash", &[&user_id]).await?;
    let hashes: Vec<Vec<u8>> = rows.iter().map(|r| r.get("token_hash")).collect();
    forget(cache, &hashes).await;
    Ok(hashes.len() as u64)
}

async fn forget(cache: &Cache, hashes: &[Vec<u8>]) {
    let keys: Vec<String> = hashes.iter().map(|h| cache_key(h)).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    if !cache.delete(&keys).await {
        // The row is gone, so a cache miss would refuse the token; a cached copy could outlive the outage for at
        // most the cache lifetime of a session. Say so loudly.
        tracing::warn!(sessions = keys.len(), "signed-out sessions may stay cached until Redis is back");
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ClearedSessions {
    pub deleted: u64,
    pub batches: u32,
}

/// The `clear-expired-sessions` schedule: [`clear_expired`] in batches of [`DELETE_BATCH`], and the sign-in
/// limits' rows of windows long over ([`crate::identity::limits::forget_stale`]), reported.
pub fn clear_expired_job(platform: &'static Platform, _run: ScheduledRun) -> ReportFuture {
    Box::pin(async move {
        let sessions = clear_expired(&platform.db, DELETE_BATCH).await?;
        let stale_limits = crate::identity::limits::forget_stale(&platform.db.connection().await?).await?;
        Ok(
            serde_json::json!({ "deleted": sessions.deleted, "batches": sessions.batches, "stale_limits_deleted": stale_limits }),
        )
    })
}

/// Deletes sessions whose `expires_at` has passed, in batches, until none is left.
pub async fn clear_expired(db: &Database, batch_size: i64) -> Result<ClearedSessions, DbError> {
    let connection = db.connection().await?;
    let mut cleared = ClearedSessions { deleted: 0, batches: 0 };
    loop {
        let deleted = connection
            .execute(
                "DELETE FROM sessions WHERE token_hash IN (
                     SELECT token_hash FROM sessions WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)",
                &[&batch_size],
            )
            .await?;
        cleared.batches += 1;
        cleared.deleted += deleted;
        if deleted < batch_size as u64 {
            return Ok(cleared);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_256_random_bits_and_only_its_hash_is_kept() {
        let a = SessionToken::generate().unwrap();
        let b = SessionToken::generate().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, b);
        assert_ne!(hex::encode(a.hash()), a.as_str());
        assert!(!format!("{a:?}").contains(a.as_str()), "a token never reaches a log line");
    }

    #[test]
    fn only_64_hex_characters_parse_as_a_token() {
        let t = SessionToken::generate().unwrap();
        assert_eq!(SessionToken::parse(&t.as_str().to_uppercase()), Some(t.clone()));
        assert!(SessionToken::parse("abc").is_none());
        assert!(SessionToken::parse(&"z".repeat(64)).is_none());
    }
}
