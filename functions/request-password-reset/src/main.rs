//! `POST /api/v1/auth/password-reset`: mails a one-time password reset link.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::REQUEST_PASSWORD_RESET)
}
