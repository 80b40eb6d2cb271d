//! `update-user-statistics-cache`: every 30 minutes, warms `user_stats:{id}` of recently seen players.
use shared::{BoxError, quiz, trigger};

fn main() -> Result<(), BoxError> {
    trigger::schedule::run("update-user-statistics-cache", quiz::stats::refresh_job)
}
