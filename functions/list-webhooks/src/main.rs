//! `GET /api/v1/admin/webhooks`: Admin - the outbound webhooks with their deliveries by state.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LIST_WEBHOOKS.run()
}
