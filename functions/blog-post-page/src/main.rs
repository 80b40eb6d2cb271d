//! `GET /blog/{slug}`: the server-rendered HTML page of a published post, with Open Graph tags.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::BLOG_POST_PAGE)
}
