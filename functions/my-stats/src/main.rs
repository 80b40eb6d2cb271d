//! `GET /api/v1/me/stats`: the signed-in user's statistics.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::MY_STATS.run()
}
