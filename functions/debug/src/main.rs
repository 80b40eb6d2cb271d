//! The `debug` job, on its own SQS queue.
use shared::{BoxError, debug_job, trigger};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("debug", debug_job::handle)
}
