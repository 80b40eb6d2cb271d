//! `POST /api/v1/admin/blog/posts`: Admin - creates a blog post, a draft or published.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CREATE_BLOG_POST.run()
}
