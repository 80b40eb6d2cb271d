//! `POST /api/v1/auth/logout`: ends the session (or every session of the user).

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SIGN_OUT.run()
}
