//! `GET /api/v1/topics`: topics with published tasks in a language.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LIST_TOPICS.run()
}
