//! `POST /api/v1/blog/posts/{slug}/like`: the signed-in reader likes a post (idempotent).

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LIKE_BLOG_POST.run()
}
