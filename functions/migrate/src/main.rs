//! `migrate`: invoked directly after a deploy (and by the local cloud); applies pending migrations.
use shared::{BoxError, migrations, trigger};

fn main() -> Result<(), BoxError> {
    trigger::invoke::run("migrate", migrations::invoke)
}
