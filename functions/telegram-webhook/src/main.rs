//! `POST /api/v1/telegram/webhook`: every update Telegram sends the bot (secret header required).

fn main() -> Result<(), shared::BoxError> {
    shared::functions::TELEGRAM_WEBHOOK.run()
}
