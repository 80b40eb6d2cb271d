//! The `process-uploaded-file` job: `upload.completed` events, delivered by an EventBridge rule.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::PROCESS_UPLOADED_FILE.run()
}
