//! `sweep-contact-messages`: every 5 minutes, publishes the events the contact route could not.
use shared::{BoxError, contact, trigger};

fn main() -> Result<(), BoxError> {
    trigger::schedule::run("sweep-contact-messages", contact::sweep_job)
}
