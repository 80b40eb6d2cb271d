//! `GET /api/v1/topics/{topic_id}`: one topic.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::GET_TOPIC.run()
}
