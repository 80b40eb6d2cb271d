//! `cache-monitor`: invoked directly with `{"action": "check" | "stats" | "clear" | "test"}`.
use shared::{BoxError, cache_monitor, trigger};

fn main() -> Result<(), BoxError> {
    trigger::invoke::run("cache-monitor", cache_monitor::invoke)
}
