//! `POST /api/v1/auth/telegram/widget`: signs in with Telegram Login Widget data.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SIGN_IN_TELEGRAM_WIDGET)
}
