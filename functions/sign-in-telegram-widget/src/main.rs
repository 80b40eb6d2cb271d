//! `POST /api/v1/auth/telegram/widget`: signs in with Telegram Login Widget data.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SIGN_IN_TELEGRAM_WIDGET.run()
}
