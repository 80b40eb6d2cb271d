//! `POST /api/v1/feedback`: stores a signed-in user's feedback and its images, all or nothing.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SUBMIT_FEEDBACK)
}
