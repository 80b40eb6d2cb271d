//! `POST /api/v1/auth/register`: creates an account with e-mail and password and signs it in.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REGISTER.run()
}
