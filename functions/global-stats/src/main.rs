//! `GET /api/v1/stats`: statistics of the whole platform.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::GLOBAL_STATS.run()
}
