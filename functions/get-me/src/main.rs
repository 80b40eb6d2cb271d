//! `GET /api/v1/me`: the signed-in user's profile.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::GET_ME.run()
}
