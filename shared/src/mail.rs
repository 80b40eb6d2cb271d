//! The `send-email` job: every mail the platform sends goes through it, once per job id (the client is
//! [`platform::mail::Mailer`]).

use platform::Platform;
use platform::jobs::JobEnvelope;
use platform::mail::Email;
use platform::trigger::{JobError, JobFuture};

/// What one delivery of a `send-email` job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sent now; SES's message id.
    Sent(String),
    /// This job id was sent before: a second delivery of the same message, with no second mail.
    AlreadySent,
}

/// A claim older than this belongs to an attempt that died mid-send (the function's timeout is far shorter), so
/// a new attempt may take it over.
const STALE_CLAIM_SECONDS: f64 = 120.0;

/// The `send-email` job: sends its [`Email`] once per job id, however often the queue delivers it.
///
/// The claim is a row in `mail_deliveries` written before SES is called and marked sent after; a failed send
/// removes it, so the queue's retry sends again (and after three receives the message rests in the dead-letter
/// queue). Only an attempt that dies between SES accepting the mail and the row being marked can lead to a
/// second mail, and only after the claim has gone stale.
pub async fn deliver(platform: &Platform, job: &JobEnvelope) -> Result<Delivery, JobError> {
    let email: Email = job.payload()?;
    if email.to.is_empty() {
        return Err(JobError::new("the mail has no recipient"));
    }
    let conn = platform.db.connection().await?;
    let claimed = conn
        .query_opt(
            "INSERT INTO mail_deliveries (job_id, state, recipients, subject) VALUES ($1, 'sending', $2, $3)
             ON CONFLICT (job_id) DO UPDATE SET claimed_at = now()
              WHERE mail_deliveries.state = 'sending'
                AND mail_deliveries.claimed_at < now() - make_interval(secs => $4)
             RETURNING job_id",
            &[&job.id, &email.to, &email.subject, &STALE_CLAIM_SECONDS],
        )
        .await?;
    if claimed.is_none() {
        let state: Option<String> = conn
            .query_opt("SELECT state FROM mail_deliveries WHERE job_id = $1", &[&job.id])
            .await?
            .map(|r| r.get("state"));
        return match state.as_deref() {
            Some("sent") => Ok(Delivery::AlreadySent),
            _ => Err(JobError::new("another delivery of this mail is sending it now; retrying later")),
        };
    }
    match platform.mail.send(&email).await {
        Ok(message_id) => {
            conn.execute(
                "UPDATE mail_deliveries SET state = 'sent', sent_at = now(), ses_message_id = $2 WHERE job_id = $1",
                &[&job.id, &message_id],
            )
            .await?;
            Ok(Delivery::Sent(message_id))
        }
        Err(e) => {
            conn.execute("DELETE FROM mail_deliveries WHERE job_id = $1 AND state = 'sending'", &[&job.id]).await?;
            Err(e.into())
        }
    }
}

/// The `send-email` function's job handler.
pub fn handle(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let delivery = deliver(platform, &job).await?;
        tracing::info!(job_id = %job.id, ?delivery, "send-email done");
        Ok(())
    })
}
