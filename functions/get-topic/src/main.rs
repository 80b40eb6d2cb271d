//! `GET /api/v1/topics/{topic_id}`: one topic.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::GET_TOPIC)
}
