//! `POST /api/v1/auth/logout`: ends the session (or every session of the user).
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SIGN_OUT)
}
