//! `GET /api/v1/leaderboard`: top players by rating, with filters.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LEADERBOARD)
}
