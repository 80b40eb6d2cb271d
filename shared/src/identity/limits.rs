//! Limits on the routes that cost an Argon2 hash or send a mail: sign-in, registration and password reset.
//!
//! Each limit counts hits of one subject (a client address, an account, or both) in a fixed window. They live in
//! PostgreSQL, not Redis: a limit that vanishes when the cache is cleared, evicts its keys (`allkeys-lru`) or is
//! away would be no limit at all, and these routes are rare enough that one small upsert each costs nothing. The
//! database is what sign-in needs anyway, so a limit is never the reason a sign-in fails.
//!
//! Subjects are stored as keyed hashes ([`client_digest`]), never as addresses: with the secret
//! `CLIENT_HASH_KEY`, a stored hash of an IPv4 address cannot be reversed by trying every address.
//!
//! The client address is API Gateway's `requestContext.http.sourceIp`, which the client cannot choose; never
//! `X-Forwarded-For`, which it can.

use std::time::Duration;

use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use platform::db::{Connection, DbError};
use platform::http::{ApiError, ApiRequest};

/// One limit: at most `max` hits per `window` for each subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// What is counted, e.g. `login-address`; part of the stored key.
    pub scope: &'static str,
    pub max: i32,
    pub window: Duration,
}

const QUARTER_HOUR: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// Sign-in attempts from one client address, whatever the account: a client cannot spray one password over
/// many addresses, nor spend the servers' CPU on hashes.
pub const LOGIN_PER_ADDRESS: Limit = Limit { scope: "login-address", max: 30, window: QUARTER_HOUR };
/// Wrong passwords for one account from one client address. Counted per pair, not per account, so that failing
/// for somebody else's account locks out only the one failing, never the owner signing in from elsewhere.
pub const LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: Limit =
    Limit { scope: "login-account-address", max: 10, window: QUARTER_HOUR };
/// Registrations from one client address.
pub const REGISTER_PER_ADDRESS: Limit = Limit { scope: "register-address", max: 10, window: HOUR };
/// Registration mails to one address (a welcome, or "somebody tried to register with your address").
pub const REGISTER_MAILS_PER_ACCOUNT: Limit = Limit { scope: "register-account", max: 3, window: HOUR };
/// Reset requests from one client address.
pub const RESET_PER_ADDRESS: Limit = Limit { scope: "reset-address", max: 10, window: HOUR };
/// Reset mails to one account.
pub const RESET_MAILS_PER_ACCOUNT: Limit = Limit { scope: "reset-account", max: 3, window: HOUR };
/// New passwords set with a valid reset token from one client address (each costs a hash).
pub const RESET_CONFIRMS_PER_ADDRESS: Limit = Limit { scope: "reset-confirm-address", max: 10, window: QUARTER_HOUR };

/// A keyed hash of a client's address or an account for `purpose`: HMAC-SHA256 under the configured key.
pub fn client_digest(key: &str, purpose: &str, subject: &str) -> [u8; 32] {
    // The key's SHA-256 in a zeroed block: an HMAC key of any length, through the constructor that cannot fail.
    let mut block = Key::<Hmac<Sha256>>::default();
    for (slot, byte) in block.iter_mut().zip(Sha256::digest(key.as_bytes())) {
        *slot = byte;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block);
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(subject.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The client address of a request as the gateway saw it; requests without one (a direct invocation) share one
/// subject, so they are limited together rather than not at all.
pub fn client_address(request: &ApiRequest) -> &str {
    request.source_ip.as_deref().filter(|ip| !ip.is_empty()).unwrap_or("unknown")
}

/// What [`hit`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Within,
    /// Over the limit; the window ends in this many seconds.
    Over {
        retry_after: u32,
    },
}

impl Verdict {
    /// 429 with `Retry-After` when over the limit.
    pub fn or_refuse(self) -> Result<(), ApiError> {
        match self {
            Verdict::Within => Ok(()),
            Verdict::Over { retry_after } => Err(ApiError::rate_limited(retry_after)),
        }
    }

    pub fn is_within(self) -> bool {
        self == Verdict::Within
    }
}

/// Counts one hit of `subject` under `limit` and says whether it is within the limit.
pub async fn hit(conn: &Connection, key: &str, limit: Limit, subject: &str) -> Result<Verdict, DbError> {
    let digest = client_digest(key, limit.scope, subject);
    let row = conn
        .query_one(
            "INSERT INTO auth_limits AS l (scope, subject, window_start, hits) VALUES ($1, $2, now(), 1)
             ON CONFLICT (scope, subject) DO UPDATE SET
                 hits = CASE WHEN l.window_start <= now() - make_interval(secs => $3) THEN 1 ELSE l.hits + 1 END,
                 window_start = CASE WHEN l.window_start <= now() - make_interval(secs => $3) THEN now() ELSE l.window_start END
             RETURNING hits,
                 GREATEST(1, CEIL(EXTRACT(EPOCH FROM window_start + make_interval(secs => $3) - now())))::int AS seconds_left",
            &[&limit.scope, &digest.as_slice(), &(limit.window.as_secs() as f64)],
        )
        .await?;
    Ok(verdict(row.get("hits"), row.get("seconds_left"), limit))
}

/// Whether `subject` is within `limit` now, without counting a hit.
pub async fn check(conn: &Connection, key: &str, limit: Limit, subject: &str) -> Result<Verdict, DbError> {
    let digest = client_digest(key, limit.scope, subject);
    let row = conn
        .query_opt(
            "SELECT hits,
                 GREATEST(1, CEIL(EXTRACT(EPOCH FROM window_start + make_interval(secs => $3) - now())))::int AS seconds_left
             FROM auth_limits WHERE scope = $1 AND subject = $2 AND window_start > now() - make_interval(secs => $3)",
            &[&limit.scope, &digest.as_slice(), &(limit.window.as_secs() as f64)],
        )
        .await?;
    // `check` asks whether one more hit would still be allowed.
    Ok(row.map_or(Verdict::Within, |r| verdict(r.get::<_, i32>("hits") + 1, r.get("seconds_left"), limit)))
}

/// Forgets the hits of `subject` (a successful sign-in clears its failures).
pub async fn clear(conn: &Connection, key: &str, limit: Limit, subject: &str) -> Result<(), DbError> {
    let digest = client_digest(key, limit.scope, subject);
    conn.execute("DELETE FROM auth_limits WHERE scope = $1 AND subject = $2", &[&limit.scope, &digest.as_slice()])
        .await?;
    Ok(())
}

/// Deletes the rows of windows that ended more than a day ago (the daily clean-up); answers how many.
pub async fn forget_stale(conn: &Connection) -> Result<u64, DbError> {
    conn.execute("DELETE FROM auth_limits WHERE window_start < now() - interval '1 day'", &[]).await
}

fn verdict(hits: i32, seconds_left: i32, limit: Limit) -> Verdict {
    if hits <= limit.max { Verdict::Within } else { Verdict::Over { retry_after: seconds_left.max(1) as u32 } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_depends_on_the_key_the_purpose_and_the_subject() {
        let a = client_digest("k1-0123456789abcdef0123456789abcdef", "login-address", "203.0.113.7");
        assert_ne!(
            a,
            client_digest("k2-0123456789abcdef0123456789abcdef", "login-address", "203.0.113.7"),
            "another key"
        );
        assert_ne!(
            a,
            client_digest("k1-0123456789abcdef0123456789abcdef", "reset-address", "203.0.113.7"),
            "another purpose"
        );
        assert_ne!(
            a,
            client_digest("k1-0123456789abcdef0123456789abcdef", "login-address", "203.0.113.8"),
            "another address"
        );
        assert_eq!(a, client_digest("k1-0123456789abcdef0123456789abcdef", "login-address", "203.0.113.7"));
    }

    #[test]
    fn the_hit_that_passes_the_maximum_is_refused_with_the_time_left() {
        let limit = Limit { scope: "t", max: 2, window: Duration::from_secs(60) };
        assert_eq!(verdict(2, 30, limit), Verdict::Within);
        assert_eq!(verdict(3, 30, limit), Verdict::Over { retry_after: 30 });
        assert_eq!(verdict(3, 0, limit).or_refuse().unwrap_err().retry_after, Some(1));
    }
}
