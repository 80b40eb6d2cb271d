//! The `import-telegram-document` job: imports a question bank an admin sent the bot, and reports in the chat.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::IMPORT_TELEGRAM_DOCUMENT.run()
}
