//! The outbox sweep: routes store a fact first (a contact message, a completed upload, a post's image request)
//! and publish its event after; when the bus could not be reached, the `republish-events` schedule publishes
//! what never left. A job handles an event published twice as once.

use std::time::Duration;

use platform::Platform;
use platform::events::Republished;
use platform::trigger::schedule::ScheduledRun;
use platform::trigger::{JobError, ReportFuture};

/// A fact's own route gets this long to publish before the sweep publishes it instead.
pub const GRACE: Duration = Duration::from_secs(60);
/// Events per kind per run; a backlog drains over consecutive runs.
const BATCH: i64 = 100;

/// The `republish-events` schedule: one pass over every outbox; a report per kind.
pub fn job(platform: &'static Platform, _run: ScheduledRun) -> ReportFuture {
    Box::pin(async move {
        let contact_messages = crate::contact::sweep(platform, GRACE).await?;
        let uploads = crate::uploads::republish(platform, GRACE, BATCH).await?;
        let open_graph_images = crate::blog::og::sweep_og_requests(platform).await?;
        let published_translations = crate::telegram::publish::sweep_announcements(platform, GRACE).await?;
        let failed: u64 = [contact_messages, uploads, open_graph_images, published_translations]
            .iter()
            .map(|r: &Republished| r.failed)
            .sum();
        if failed > 0 {
            return Err(JobError(format!("{failed} stored events still could not be published")));
        }
        Ok(serde_json::json!({
            "contact_messages": contact_messages,
            "uploads": uploads,
            "open_graph_images": open_graph_images,
            "published_translations": published_translations,
        }))
    })
}
