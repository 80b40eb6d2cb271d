//! `clear-expired-sessions`: daily at 03:00 UTC, deletes expired sessions in batches and reports the count.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CLEAR_EXPIRED_SESSIONS.run()
}
