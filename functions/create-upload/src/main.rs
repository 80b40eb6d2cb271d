//! `POST /api/v1/uploads`: records the upload and answers a pre-signed PUT URL for the original.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CREATE_UPLOAD.run()
}
