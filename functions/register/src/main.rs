//! `POST /api/v1/auth/register`: creates an account with e-mail and password and signs it in.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::REGISTER)
}
