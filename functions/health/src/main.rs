//! `GET /api/v1/health`.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::HEALTH.run()
}
