//! `POST /api/v1/uploads`: records the upload and answers a pre-signed PUT URL for the original.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::CREATE_UPLOAD)
}
