//! The `send-email` job, on the mail queue: every mail the platform sends goes through it.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SEND_EMAIL.run()
}
