//! `POST /api/v1/auth/login`: signs in with e-mail and password.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SIGN_IN.run()
}
