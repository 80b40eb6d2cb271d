//! `PATCH /api/v1/admin/blog/posts/{post_id}`: Admin - edits, publishes or unpublishes a blog post.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::UPDATE_BLOG_POST.run()
}
