//! `GET /api/v1/health`.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::HEALTH)
}
