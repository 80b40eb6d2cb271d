//! `GET /app/` and its files: the Telegram Mini App (`webapp/`), compiled into this binary.
use shared::{BoxError, mini_app, routes, trigger};

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

fn main() -> Result<(), BoxError> {
    mini_app::install(assets::ASSETS);
    trigger::http::run(&routes::MINI_APP)
}
