//! `GET /api/v1/subtopics/{subtopic_id}/tasks`: the tasks of a subtopic, without answers until answered.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::TASK_FEED)
}
