//! The `deliver-webhooks` job: on `quiz.published`, a signed POST to every active outbound webhook; retries too.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::DELIVER_WEBHOOKS.run()
}
