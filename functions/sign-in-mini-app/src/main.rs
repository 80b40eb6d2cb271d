//! `POST /api/v1/auth/telegram/mini-app`: signs in with Telegram Mini App initData.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SIGN_IN_MINI_APP)
}
