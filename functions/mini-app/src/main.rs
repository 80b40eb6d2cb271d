//! `GET /app/` and its files: the Telegram Mini App (`webapp/`), compiled into this binary.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::MINI_APP.run()
}
