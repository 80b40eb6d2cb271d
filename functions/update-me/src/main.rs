//! `PATCH /api/v1/me`: changes the signed-in user's profile.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::UPDATE_ME)
}
