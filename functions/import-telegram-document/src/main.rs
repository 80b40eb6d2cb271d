//! The `import-telegram-document` job: imports a question bank an admin sent the bot, and reports in the chat.
use shared::{BoxError, telegram, trigger};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("import-telegram-document", telegram::documents::job)
}
