//! `GET /api/v1/me`: the signed-in user's profile.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::GET_ME)
}
