//! `POST /api/v1/feedback`: stores a signed-in user's feedback and its images, all or nothing.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SUBMIT_FEEDBACK.run()
}
