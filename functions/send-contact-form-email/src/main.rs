//! The `send-contact-form-email` job: `contact.received` events, delivered by an EventBridge rule.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SEND_CONTACT_FORM_EMAIL.run()
}
