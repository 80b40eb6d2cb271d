//! `PATCH /api/v1/admin/blog/posts/{post_id}`: Admin - edits, publishes or unpublishes a blog post.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::UPDATE_BLOG_POST)
}
