//! `migrate`: invoked directly after a deploy (and by the local cloud); applies pending migrations.

fn main() -> Result<(), shared::BoxError> {
    shared::functions::MIGRATE.run()
}
