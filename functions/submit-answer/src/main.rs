//! `POST /api/v1/tasks/{task_id}/answer`: answers a task; the first answer decides.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::SUBMIT_ANSWER.run()
}
