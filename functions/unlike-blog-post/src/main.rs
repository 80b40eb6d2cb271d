//! `DELETE /api/v1/blog/posts/{slug}/like`: the signed-in reader no longer likes a post (idempotent).

fn main() -> Result<(), shared::BoxError> {
    shared::functions::UNLIKE_BLOG_POST.run()
}
