//! `GET /api/v1/blog/categories`: every blog category.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LIST_BLOG_CATEGORIES.run()
}
