//! The `import-telegram-document` job: a question bank an admin sent the bot as a file.
//!
//! The webhook only checks the sender and the file's name and size; this job asks Telegram where the file is
//! (`getFile`), downloads it, imports it with the same importer as the admin route, and answers in the chat with
//! the per-task report. Importing is idempotent, so a second delivery of the job creates nothing new.

use frankenstein::methods::GetFileParams;
use frankenstein::types::File;
use serde::{Deserialize, Serialize};

use crate::quiz::admin::{ImportError, ImportReport, TaskStatus, import_bank};
use platform::Platform;
use platform::bot::{BotError, MAX_DOWNLOAD_BYTES};
use platform::jobs::JobEnvelope;
use platform::trigger::{JobError, JobFuture};

/// The job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportDocument {
    pub chat_id: i64,
    pub file_id: String,
    pub file_name: String,
}

impl platform::jobs::Payload for ImportDocument {
    const KIND: platform::jobs::JobKind = platform::jobs::JobKind::ImportTelegramDocument;
}

pub fn job(platform: &'static Platform, job: JobEnvelope) -> JobFuture {
    Box::pin(async move {
        let document: ImportDocument = job.payload()?;
        let text = match import(platform, &document).await {
            Ok(report) => report_text(&document.file_name, &report),
            Err(Failure::Refused(reason)) => format!("❌ {}: {reason}", document.file_name),
            Err(Failure::Retry(e)) => return Err(e),
        };
        match platform.bot().send_text(document.chat_id, &text, None).await {
            Ok(_) => Ok(()),
            // The import is done; a chat that refuses the report (the admin blocked the bot) changes nothing.
            Err(e @ BotError::Refused { .. }) => {
                tracing::warn!(error = %e, "the import's report could not be sent");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    })
}

enum Failure {
    /// The file is not a bank, or Telegram will not give it: reported in the chat, not retried.
    Refused(String),
    Retry(JobError),
}

async fn import(platform: &Platform, document: &ImportDocument) -> Result<ImportReport, Failure> {
    let bot = platform.bot();
    let refused_or_retry = |e: BotError| match e {
        BotError::Refused { .. } => Failure::Refused(e.to_string()),
        other => Failure::Retry(other.into()),
    };
    let file: File =
        bot.call("getFile", &GetFileParams { file_id: document.file_id.clone() }).await.map_err(refused_or_retry)?;
    let path = file.file_path.ok_or_else(|| Failure::Refused("Telegram gave no path for the file".into()))?;
    let bytes = bot.download(&path, MAX_DOWNLOAD_BYTES).await.map_err(refused_or_retry)?;
    import_bank(platform, &bytes, true).await.map_err(|e| match e {
        ImportError::Bank(e) => Failure::Refused(e.to_string()),
        ImportError::Database(e) => Failure::Retry(e.into()),
    })
}

/// The report as a chat message: the totals, then one line per task that was not simply created.
fn report_text(file_name: &str, report: &ImportReport) -> String {
    let mut text = format!(
        "✅ {file_name}: {} created, {} already there, {} rejected.",
        report.created, report.existing, report.rejected
    );
    if !report.topics_created.is_empty() {
        text.push_str(&format!("\nNew topics: {}.", report.topics_created.join(", ")));
    }
    for task in &report.tasks {
        match task.status {
            TaskStatus::Rejected => {
                let reasons: Vec<String> =
                    task.reasons.iter().flatten().map(|(field, why)| format!("{field} {why}")).collect();
                text.push_str(&format!("\n• task {}: rejected ({})", task.index + 1, reasons.join("; ")));
            }
            TaskStatus::Exists if !task.translations_added.is_empty() => {
                text.push_str(&format!("\n• task {}: added {}", task.index + 1, task.translations_added.join(", ")));
            }
            _ => {}
        }
    }
    text
}
