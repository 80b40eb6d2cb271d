//! `DELETE /api/v1/admin/webhooks/{webhook_id}`: Admin - stops deliveries to an outbound webhook.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::REMOVE_WEBHOOK)
}
