//! `GET /api/v1/subtopics/{subtopic_id}/tasks`: the tasks of a subtopic, without answers until answered.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::TASK_FEED.run()
}
