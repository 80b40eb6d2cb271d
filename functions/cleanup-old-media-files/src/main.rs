//! `cleanup-old-media-files`: daily, deletes media objects nothing refers to (`{"dry_run": true}` only lists them).
use shared::{BoxError, media_cleanup, trigger};

fn main() -> Result<(), BoxError> {
    trigger::schedule::run("cleanup-old-media-files", media_cleanup::job)
}
