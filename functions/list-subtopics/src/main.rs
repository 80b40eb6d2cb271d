//! `GET /api/v1/topics/{topic_id}/subtopics`: subtopics of a topic with counts per difficulty.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::LIST_SUBTOPICS)
}
