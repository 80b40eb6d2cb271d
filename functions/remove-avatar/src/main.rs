//! `DELETE /api/v1/me/avatars/{avatar_id}`.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REMOVE_AVATAR.run()
}
