//! `DELETE /api/v1/blog/posts/{slug}/like`: the signed-in reader no longer likes a post (idempotent).
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::UNLIKE_BLOG_POST)
}
