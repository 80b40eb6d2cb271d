//! `POST /api/v1/admin/tasks/import`: admin - imports a question bank in the earlier system's format.
use shared::{BoxError, routes, trigger};

fn main() -> Result<(), BoxError> {
    trigger::http::run(&routes::IMPORT_TASKS)
}
