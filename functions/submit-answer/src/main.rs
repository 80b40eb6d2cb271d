//! `POST /api/v1/tasks/{task_id}/answer`: answers a task; the first answer decides.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::SUBMIT_ANSWER)
}
