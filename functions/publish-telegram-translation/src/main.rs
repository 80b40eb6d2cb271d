//! The `publish-telegram` job: one translation of a task to its channel (code image, text, quiz poll, button).
use shared::{BoxError, telegram, trigger};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("publish-telegram-translation", telegram::publish::job)
}
