//! `POST /api/v1/auth/login`: signs in with e-mail and password.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SIGN_IN)
}
