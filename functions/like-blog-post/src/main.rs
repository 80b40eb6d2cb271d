//! `POST /api/v1/blog/posts/{slug}/like`: the signed-in reader likes a post (idempotent).
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LIKE_BLOG_POST)
}
