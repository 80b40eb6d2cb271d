//! `POST /api/v1/auth/password-reset/confirm`: sets a new password with a reset token.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::CONFIRM_PASSWORD_RESET)
}
