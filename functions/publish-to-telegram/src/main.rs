//! `POST /api/v1/admin/telegram/publish`: Admin - publishes a task, or the next of every topic, to its channels.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::PUBLISH_TO_TELEGRAM)
}
