//! `GET /api/v1/me/stats`: the signed-in user's statistics.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::MY_STATS)
}
