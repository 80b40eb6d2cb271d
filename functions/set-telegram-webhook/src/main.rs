//! Operations, invoked directly: registers the webhook with Telegram (`setWebhook` with the secret), or shows it.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SET_TELEGRAM_WEBHOOK.run()
}
