//! `POST /api/v1/admin/telegram/publish`: Admin - publishes a task, or the next of every topic, to its channels.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::PUBLISH_TO_TELEGRAM.run()
}
