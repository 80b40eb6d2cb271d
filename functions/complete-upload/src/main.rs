//! `POST /api/v1/uploads/{upload_id}/complete`: checks the original is there, publishes `upload.completed`, 202.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::COMPLETE_UPLOAD)
}
