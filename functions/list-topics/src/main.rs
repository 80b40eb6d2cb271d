//! `GET /api/v1/topics`: topics with published tasks in a language.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LIST_TOPICS)
}
