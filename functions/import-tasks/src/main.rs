//! `POST /api/v1/admin/tasks/import`: admin - imports a question bank in the earlier system's format.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::IMPORT_TASKS.run()
}
