//! Sessions: for now, the daily clean-up of expired rows (the quiz-core issue adds sign-in).

use serde::Serialize;

use crate::db::{Database, DbError};

/// Rows deleted per statement: small enough that no statement holds locks for long on a large table.
pub const DELETE_BATCH: i64 = 1000;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ClearedSessions {
    pub deleted: u64,
    pub batches: u32,
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
