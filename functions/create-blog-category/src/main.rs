//! `POST /api/v1/admin/blog/categories`: Admin - creates a blog category.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CREATE_BLOG_CATEGORY.run()
}
