//! `GET /api/v1/blog/posts/{slug}`: one published blog post with its counters.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::GET_BLOG_POST.run()
}
