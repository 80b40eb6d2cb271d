//! Operations, invoked directly: registers the webhook with Telegram (`setWebhook` with the secret), or shows it.
use shared::{BoxError, telegram, trigger};

fn main() -> Result<(), BoxError> {
    trigger::invoke::run("set-telegram-webhook", telegram::set_webhook)
}
