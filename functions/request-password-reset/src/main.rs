//! `POST /api/v1/auth/password-reset`: mails a one-time password reset link.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REQUEST_PASSWORD_RESET.run()
}
