//! `GET /reset-password`: the page the password-reset mail links to; it sets the new password through the confirm route.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::RESET_PASSWORD_PAGE)
}
