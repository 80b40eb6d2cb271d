//! `GET /api/v1/users/{user_id}`: a user's public profile and statistics.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::USER_PROFILE)
}
