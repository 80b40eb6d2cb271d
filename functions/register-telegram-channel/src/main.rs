//! `PUT /api/v1/admin/telegram/channels`: Admin - registers the Telegram channel of a topic and language.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REGISTER_TELEGRAM_CHANNEL.run()
}
