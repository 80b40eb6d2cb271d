//! `PATCH /api/v1/admin/tasks/{task_id}`: admin - publishes or unpublishes a task.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::UPDATE_TASK)
}
