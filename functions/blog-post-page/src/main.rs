//! `GET /blog/{slug}`: the server-rendered HTML page of a published post, with Open Graph tags.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::BLOG_POST_PAGE.run()
}
