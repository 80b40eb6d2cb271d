//! `POST /api/v1/admin/blog/posts`: Admin - creates a blog post, a draft or published.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::CREATE_BLOG_POST)
}
