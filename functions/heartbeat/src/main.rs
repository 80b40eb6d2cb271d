//! `POST /api/v1/me/heartbeat`: marks the signed-in user online.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::HEARTBEAT)
}
