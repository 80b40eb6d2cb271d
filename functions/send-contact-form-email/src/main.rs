//! The `send-contact-form-email` job: `contact.received` events, delivered by an EventBridge rule.
use shared::{BoxError, contact, trigger};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("send-contact-form-email", contact::notify_job)
}
