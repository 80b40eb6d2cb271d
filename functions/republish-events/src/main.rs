//! `republish-events`: every 5 minutes, publishes the domain events that routes stored but could not publish.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::REPUBLISH_EVENTS.run()
}
