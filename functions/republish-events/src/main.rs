//! `republish-events`: every 5 minutes, publishes the domain events that routes stored but could not publish.
use shared::{BoxError, republish, trigger};

fn main() -> Result<(), BoxError> {
    trigger::schedule::run("republish-events", republish::job)
}
