//! The `deliver-webhooks` job: on `quiz.published`, a signed POST to every active outbound webhook; retries too.
use shared::{BoxError, trigger, webhooks};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("deliver-webhooks", webhooks::job)
}
