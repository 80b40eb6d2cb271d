//! `clear-expired-sessions`: daily at 03:00 UTC, deletes expired sessions in batches and reports the count.
use shared::{BoxError, sessions, trigger};

fn main() -> Result<(), BoxError> {
    trigger::schedule::run("clear-expired-sessions", sessions::clear_expired_job)
}
