//! `GET /api/v1/blog/categories`: every blog category.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LIST_BLOG_CATEGORIES)
}
