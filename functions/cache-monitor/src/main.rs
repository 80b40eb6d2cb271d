//! `cache-monitor`: invoked directly with `{"action": "check" | "stats" | "clear" | "test"}`.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CACHE_MONITOR.run()
}
