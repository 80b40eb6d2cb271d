//! `cleanup-old-media-files`: daily, deletes media objects nothing refers to (`{"dry_run": true}` only lists them).

fn main() -> Result<(), shared::BoxError> {
    shared::functions::CLEANUP_OLD_MEDIA_FILES.run()
}
