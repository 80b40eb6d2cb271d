//! `DELETE /api/v1/admin/blog/posts/{post_id}`: Admin - deletes a blog post.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::DELETE_BLOG_POST.run()
}
