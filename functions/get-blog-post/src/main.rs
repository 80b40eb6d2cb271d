//! `GET /api/v1/blog/posts/{slug}`: one published blog post with its counters.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::GET_BLOG_POST)
}
