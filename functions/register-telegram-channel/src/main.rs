//! `PUT /api/v1/admin/telegram/channels`: Admin - registers the Telegram channel of a topic and language.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::REGISTER_TELEGRAM_CHANNEL)
}
