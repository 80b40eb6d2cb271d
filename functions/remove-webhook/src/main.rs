//! `DELETE /api/v1/admin/webhooks/{webhook_id}`: Admin - stops deliveries to an outbound webhook.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REMOVE_WEBHOOK.run()
}
