//! `POST /api/v1/contact`: stores the message, publishes `contact.received`, answers 202.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SUBMIT_CONTACT_FORM.run()
}
