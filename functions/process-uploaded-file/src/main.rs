//! The `process-uploaded-file` job: `upload.completed` events, delivered by an EventBridge rule.
use shared::{BoxError, trigger, uploads};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("process-uploaded-file", uploads::process_job)
}
