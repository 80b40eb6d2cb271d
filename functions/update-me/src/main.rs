//! `PATCH /api/v1/me`: changes the signed-in user's profile.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::UPDATE_ME.run()
}
