//! `POST /api/v1/blog/posts/{slug}/view`: counts a reader's view once per 24 hours.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::COUNT_BLOG_POST_VIEW.run()
}
