//! `GET /api/v1/users/{user_id}`: a user's public profile and statistics.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::USER_PROFILE.run()
}
