//! The `generate-og-image` job: `post.published` events, delivered by an EventBridge rule.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::GENERATE_OG_IMAGE.run()
}
