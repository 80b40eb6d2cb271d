//! The `send-email` job, on the mail queue: every mail the platform sends goes through it.
use shared::{BoxError, mail, trigger};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("send-email", mail::handle)
}
