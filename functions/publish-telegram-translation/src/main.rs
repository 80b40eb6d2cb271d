//! The `publish-telegram` job: one translation of a task to its channel (code image, text, quiz poll, button).

fn main() -> Result<(), shared::BoxError> {
    shared::functions::PUBLISH_TELEGRAM_TRANSLATION.run()
}
