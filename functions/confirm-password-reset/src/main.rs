//! `POST /api/v1/auth/password-reset/confirm`: sets a new password with a reset token.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CONFIRM_PASSWORD_RESET.run()
}
