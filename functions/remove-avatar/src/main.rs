//! `DELETE /api/v1/me/avatars/{avatar_id}`.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::REMOVE_AVATAR)
}
