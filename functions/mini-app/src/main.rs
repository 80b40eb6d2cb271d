//! `GET /app/` and its files: the Telegram Mini App (`webapp/`), compiled into this binary.

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

fn main() -> Result<(), shared::BoxError> {
    shared::mini_app::install(assets::ASSETS);
    shared::functions::MINI_APP.run()
}
