//! The `generate-og-image` job: `post.published` events, delivered by an EventBridge rule.
use shared::{BoxError, blog, trigger};

fn main() -> Result<(), BoxError> {
    trigger::sqs::run("generate-og-image", blog::og::generate_job)
}
