//! `DELETE /api/v1/admin/blog/posts/{post_id}`: Admin - deletes a blog post.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::DELETE_BLOG_POST)
}
