//! `POST /api/v1/admin/blog/categories`: Admin - creates a blog category.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::CREATE_BLOG_CATEGORY)
}
