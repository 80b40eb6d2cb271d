//! `queue-inspect`: invoked directly with `{"action": "inspect" | "ping"}` or `{"action": "redrive", "queue": …}`.
use shared::{BoxError, queue_inspect, trigger};

fn main() -> Result<(), BoxError> {
    trigger::invoke::run("queue-inspect", queue_inspect::invoke)
}
