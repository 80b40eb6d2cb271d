//! `PATCH /api/v1/admin/tasks/{task_id}`: admin - publishes or unpublishes a task.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::UPDATE_TASK.run()
}
