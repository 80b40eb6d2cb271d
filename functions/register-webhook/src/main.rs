//! `POST /api/v1/admin/webhooks`: Admin - registers an outbound webhook URL and answers its signing secret once.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::REGISTER_WEBHOOK)
}
