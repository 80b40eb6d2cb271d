//! `POST /api/v1/contact`: stores the message, publishes `contact.received`, answers 202.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SUBMIT_CONTACT_FORM)
}
