//! `POST /api/v1/uploads/{upload_id}/complete`: checks the original is there, publishes `upload.completed`, 202.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::COMPLETE_UPLOAD.run()
}
