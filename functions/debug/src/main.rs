//! The `debug` job, on its own SQS queue.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::DEBUG.run()
}
