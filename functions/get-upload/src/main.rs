//! `GET /api/v1/uploads/{upload_id}`: the caller's upload, with the processed image's URL once ready.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::GET_UPLOAD)
}
