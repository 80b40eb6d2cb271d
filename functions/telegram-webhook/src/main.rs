//! `POST /api/v1/telegram/webhook`: every update Telegram sends the bot (secret header required).
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::TELEGRAM_WEBHOOK)
}
