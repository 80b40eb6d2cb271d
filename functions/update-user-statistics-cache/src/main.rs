//! `update-user-statistics-cache`: every 30 minutes, warms `user_stats:{id}` of recently seen players.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::UPDATE_USER_STATISTICS_CACHE.run()
}
