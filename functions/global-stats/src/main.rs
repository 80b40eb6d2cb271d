//! `GET /api/v1/stats`: statistics of the whole platform.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::GLOBAL_STATS)
}
