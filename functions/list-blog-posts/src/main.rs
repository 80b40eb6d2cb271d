//! `GET /api/v1/blog/posts`: published blog posts, newest first, filtered and paged.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LIST_BLOG_POSTS)
}
