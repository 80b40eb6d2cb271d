//! `POST /api/v1/blog/posts/{slug}/view`: counts a reader's view once per 24 hours.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::COUNT_BLOG_POST_VIEW)
}
