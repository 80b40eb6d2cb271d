//! `POST /api/v1/me/heartbeat`: marks the signed-in user online.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::HEARTBEAT.run()
}
