//! `GET /api/v1/uploads/{upload_id}`: the caller's upload, with the processed image's URL once ready.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::GET_UPLOAD.run()
}
