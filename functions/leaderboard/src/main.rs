//! `GET /api/v1/leaderboard`: top players by rating, with filters.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LEADERBOARD.run()
}
