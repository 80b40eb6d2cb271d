//! `GET /api/v1/blog/posts`: published blog posts, newest first, filtered and paged.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LIST_BLOG_POSTS.run()
}
