//! `GET /api/v1/admin/webhooks`: Admin - the outbound webhooks with their deliveries by state.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LIST_WEBHOOKS)
}
