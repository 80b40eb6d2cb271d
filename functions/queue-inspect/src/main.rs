//! `queue-inspect`: invoked directly with `{"action": "inspect" | "ping"}` or `{"action": "redrive", "queue": …}`.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::QUEUE_INSPECT.run()
}
