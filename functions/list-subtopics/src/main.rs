//! `GET /api/v1/topics/{topic_id}/subtopics`: subtopics of a topic with counts per difficulty.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::LIST_SUBTOPICS.run()
}
