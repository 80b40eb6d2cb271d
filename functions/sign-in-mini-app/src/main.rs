//! `POST /api/v1/auth/telegram/mini-app`: signs in with Telegram Mini App initData.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SIGN_IN_MINI_APP.run()
}
