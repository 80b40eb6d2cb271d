//! `POST /api/v1/admin/webhooks`: Admin - registers an outbound webhook URL and answers its signing secret once.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REGISTER_WEBHOOK.run()
}
