//! `queue-inspect` (DOMAIN §8: the earlier `celery inspect ping|active|stats`, now answerable in production):
//! invoked directly with
//!
//! - `{"action": "inspect"}`: every job queue of this stack (the queues named with `QUEUE_NAME_PREFIX`): visible,
//!   in-flight and delayed messages, the oldest message's age, and its dead-letter queue's depth and oldest age;
//! - `{"action": "ping"}`: each job function of `JOB_FUNCTIONS` answers a no-op invocation with its version and
//!   whether the instance that answered was cold;
//! - `{"action": "redrive", "queue": "mail"}`: moves the messages of that queue's dead-letter queue back to it,
//!   after a fix.
//!
//! Ages: SQS reports a queue's oldest message only as CloudWatch's `ApproximateAgeOfOldestMessage`, so a job
//! queue's age is that metric's latest minute (none where CloudWatch has no data, as on the local endpoint). A
//! dead-letter queue's age is read from its messages themselves: peeking there is harmless, because nothing
//! consumes a dead-letter queue and it has no redrive policy to count receives against.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};
use serde::{Deserialize, Serialize};

use platform::Platform;
use platform::aws::{self, describe};
use platform::trigger::{JobError, ReportFuture};

/// How long one function may take to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(20);
/// A redrive stops after this long and reports what remains, well inside the function's timeout; run it again
/// for the rest.
const REDRIVE_BUDGET: Duration = Duration::from_secs(40);

#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum Action {
    Inspect,
    Ping,
    Redrive { queue: String },
}

struct Clients {
    sqs: aws_sdk_sqs::Client,
    lambda: aws_sdk_lambda::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

fn clients() -> &'static Clients {
    static CLIENTS: std::sync::OnceLock<Clients> = std::sync::OnceLock::new();
    CLIENTS.get_or_init(|| {
        let sdk = aws::sdk_config();
        Clients {
            sqs: aws_sdk_sqs::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
        }
    })
}

/// The stack's queue-name prefix, which only this function is configured with.
fn queue_name_prefix(platform: &Platform) -> Result<&str, JobError> {
    platform.config.operations.queue_name_prefix.as_deref().ok_or_else(|| JobError::new("QUEUE_NAME_PREFIX is not set"))
}

/// The function's handler: the action's report, or an error naming what went wrong.
pub fn invoke(platform: &'static Platform, event: serde_json::Value) -> ReportFuture {
    Box::pin(async move {
        let action: Action = serde_json::from_value(event).map_err(|e| {
            JobError(format!(
                r#"expected {{"action": "inspect" | "ping"}} or {{"action": "redrive", "queue": "<name>"}}: {e}"#
            ))
        })?;
        let clients = clients();
        let report = match action {
            Action::Inspect => serde_json::to_value(inspect(clients, queue_name_prefix(platform)?).await?)?,
            Action::Ping => {
                let names = platform.config.operations.job_functions.clone();
                if names.is_empty() {
                    return Err(JobError::new("JOB_FUNCTIONS is not set"));
                }
                serde_json::to_value(ping(&clients.lambda, names).await)?
            }
            Action::Redrive { queue } => {
                serde_json::to_value(redrive(clients, queue_name_prefix(platform)?, &queue).await?)?
            }
        };
        Ok(report)
    })
}

fn sqs_error(what: &str, e: impl std::error::Error) -> JobError {
    JobError(format!("{what}: {}", describe(&e)))
}

/// One queue as `GetQueueAttributes` describes it.
#[derive(Debug, Clone)]
struct QueueInfo {
    name: String,
    url: String,
    arn: String,
    visible: u64,
    in_flight: u64,
    delayed: u64,
    /// The dead-letter queue's ARN and `maxReceiveCount`, for a queue with a redrive policy.
    redrive: Option<(String, u32)>,
}

fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

async fn describe_queues(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Result<Vec<QueueInfo>, JobError> {
    let mut urls = Vec::new();
    let mut pages = sqs.list_queues().queue_name_prefix(prefix).max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        urls.extend(page.map_err(|e| sqs_error("ListQueues", e))?.queue_urls.unwrap_or_default());
    }
    let mut queues = Vec::new();
    for url in urls {
        queues.push(describe_queue(sqs, url).await?);
    }
    queues.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(queues)
}

async fn describe_queue(sqs: &aws_sdk_sqs::Client, url: String) -> Result<QueueInfo, JobError> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueAttributes", e))?
        .attributes
        .unwrap_or_default();
    let get = |name: QueueAttributeName| attributes.get(&name).cloned().unwrap_or_default();
    let count = |name: QueueAttributeName| get(name).parse().unwrap_or(0);
    let redrive =
        serde_json::from_str::<serde_json::Value>(&get(QueueAttributeName::RedrivePolicy)).ok().and_then(|p| {
            let target = p.get("deadLetterTargetArn")?.as_str()?.to_string();
            // The policy's count is a number, or a string in some SDK versions.
            let max = p.get("maxReceiveCount").and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok()))?;
            Some((target, u32::try_from(max).ok()?))
        });
    Ok(QueueInfo {
        name: name_of(&url).to_string(),
        arn: get(QueueAttributeName::QueueArn),
        visible: count(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        redrive,
        url,
    })
}

/// A job queue's state.
#[derive(Debug, Serialize)]
pub struct QueueReport {
    pub queue: String,
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
    /// CloudWatch's `ApproximateAgeOfOldestMessage`, latest minute; none without data.
    pub oldest_age_seconds: Option<f64>,
    pub max_receive_count: Option<u32>,
    pub dead_letter: Option<DeadLetterReport>,
}

#[derive(Debug, Serialize)]
pub struct DeadLetterReport {
    pub queue: String,
    pub depth: u64,
    /// The oldest of up to ten messages read (SQS hands them out in no promised order).
    pub oldest_age_seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub queues: Vec<QueueReport>,
    /// Messages waiting in dead-letter queues, in all.
    pub dead_lettered: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

async fn inspect(clients: &Clients, prefix: &str) -> Result<Inspection, JobError> {
    let queues = describe_queues(&clients.sqs, prefix).await?;
    let by_arn: HashMap<&str, &QueueInfo> = queues.iter().map(|q| (q.arn.as_str(), q)).collect();
    let dead_letter_arns: Vec<&str> =
        queues.iter().filter_map(|q| q.redrive.as_ref().map(|(arn, _)| arn.as_str())).collect();
    let mut report = Inspection { queues: Vec::new(), dead_lettered: 0, warnings: Vec::new() };
    for queue in queues.iter().filter(|q| !dead_letter_arns.contains(&q.arn.as_str())) {
        let dead_letter = match &queue.redrive {
            Some((arn, _)) => match by_arn.get(arn.as_str()) {
                Some(dlq) => Some(DeadLetterReport {
                    queue: dlq.name.clone(),
                    depth: dlq.visible + dlq.in_flight,
                    oldest_age_seconds: if dlq.visible > 0 {
                        peek_oldest_age(&clients.sqs, &dlq.url).await
                    } else {
                        None
                    },
                }),
                None => {
                    report
                        .warnings
                        .push(format!("{}: its dead-letter queue {arn} is not among this stack's queues", queue.name));
                    None
                }
            },
            None => None,
        };
        if let Some(d) = &dead_letter {
            report.dead_lettered += d.depth;
            if d.depth > 0 {
                report
                    .warnings
                    .push(format!("{}: {} message(s) dead-lettered; fix the cause, then redrive", queue.name, d.depth));
            }
        }
        report.queues.push(QueueReport {
            queue: queue.name.clone(),
            visible: queue.visible,
            in_flight: queue.in_flight,
            delayed: queue.delayed,
            oldest_age_seconds: oldest_age_metric(&clients.cloudwatch, &queue.name).await,
            max_receive_count: queue.redrive.as_ref().map(|(_, max)| *max),
            dead_letter,
        });
    }
    Ok(report)
}

/// The age of the oldest of up to ten messages, read without hiding them (visibility 0).
async fn peek_oldest_age(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<f64> {
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .wait_time_seconds(0)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send()
        .await
        .ok()?;
    let oldest_ms = received
        .messages()
        .iter()
        .filter_map(|m| m.attributes()?.get(&MessageSystemAttributeName::SentTimestamp)?.parse::<i64>().ok())
        .min()?;
    Some(((chrono::Utc::now().timestamp_millis() - oldest_ms).max(0) as f64 / 1000.0).round())
}

async fn oldest_age_metric(cloudwatch: &aws_sdk_cloudwatch::Client, queue: &str) -> Option<f64> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let now = std::time::SystemTime::now();
    let answer = cloudwatch
        .get_metric_statistics()
        .namespace("AWS/SQS")
        .metric_name("ApproximateAgeOfOldestMessage")
        .dimensions(Dimension::builder().name("QueueName").value(queue).build())
        .start_time(DateTime::from(now - Duration::from_secs(600)))
        .end_time(DateTime::from(now))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .inspect_err(|e| tracing::warn!(queue, error = %describe(e), "no queue age from CloudWatch"))
        .ok()?;
    let latest = answer.datapoints().iter().max_by_key(|d| d.timestamp().map(|t| t.secs()))?;
    latest.maximum()
}

/// One function's answer to a ping.
#[derive(Debug, Serialize)]
pub struct Pong {
    pub function: String,
    pub ok: bool,
    pub latency_ms: f64,
    /// What the function said: its name, version and whether it was cold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PingReport {
    pub answered: usize,
    pub of: usize,
    pub functions: Vec<Pong>,
}

/// Invokes every function at once with `{"ping": {}}`; each answers without doing any work.
pub async fn ping(lambda: &aws_sdk_lambda::Client, functions: Vec<String>) -> PingReport {
    let mut tasks = tokio::task::JoinSet::new();
    for function in functions {
        let lambda = lambda.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let call = lambda
                .invoke()
                .function_name(&function)
                .payload(aws_sdk_lambda::primitives::Blob::new(br#"{"ping":{}}"#.to_vec()))
                .send();
            let outcome = match tokio::time::timeout(PING_TIMEOUT, call).await {
                Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
                Ok(Err(e)) => Err(describe(&e)),
                Ok(Ok(out)) => {
                    let payload =
                        out.payload().map(|p| String::from_utf8_lossy(p.as_ref()).into_owned()).unwrap_or_default();
                    match out.function_error() {
                        Some(kind) => Err(format!("{kind}: {payload}")),
                        None => serde_json::from_str::<serde_json::Value>(&payload)
                            .ok()
                            .filter(|a| a.get("pong").is_some())
                            .ok_or_else(|| format!("not a ping answer: {payload}")),
                    }
                }
            };
            let latency_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
            match outcome {
                Ok(answer) => Pong { function, ok: true, latency_ms, answer: Some(answer), error: None },
                Err(error) => Pong { function, ok: false, latency_ms, answer: None, error: Some(error) },
            }
        });
    }
    let mut functions: Vec<Pong> = tasks.join_all().await;
    functions.sort_by(|a, b| a.function.cmp(&b.function));
    PingReport { answered: functions.iter().filter(|p| p.ok).count(), of: functions.len(), functions }
}

#[derive(Debug, Serialize)]
pub struct Redrive {
    pub queue: String,
    pub dead_letter_queue: String,
    pub moved: u64,
    pub failed: u64,
    /// Messages still in the dead-letter queue when it stopped (approximate).
    pub remaining: u64,
}

/// Moves a dead-letter queue's messages back to the queue whose redrive policy names it: each batch is sent to
/// the queue first and deleted from the dead-letter queue after, so a failure between the two can only
/// duplicate a message (jobs are idempotent by job id), never lose one.
async fn redrive(clients: &Clients, prefix: &str, queue: &str) -> Result<Redrive, JobError> {
    let sqs = &clients.sqs;
    let queues = describe_queues(sqs, prefix).await?;
    let wanted = [queue.to_string(), format!("{prefix}{queue}")];
    let source = queues
        .iter()
        .find(|q| wanted.contains(&q.name) && q.redrive.is_some())
        .ok_or_else(|| JobError(format!("{queue}: no queue of this stack with a dead-letter queue has that name")))?;
    let dlq_arn = &source.redrive.as_ref().expect("filtered on a redrive policy").0;
    let dlq = queues
        .iter()
        .find(|q| &q.arn == dlq_arn)
        .ok_or_else(|| JobError(format!("{dlq_arn}: dead-letter queue not found")))?;
    let started = Instant::now();
    let (mut moved, mut failed) = (0u64, 0u64);
    while started.elapsed() < REDRIVE_BUDGET {
        let received = sqs
            .receive_message()
            .queue_url(&dlq.url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .wait_time_seconds(0)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sqs_error("ReceiveMessage", e))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        let mut entries = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(m.body().unwrap_or_default())
                .set_message_attributes(m.message_attributes().cloned())
                .build()
                .map_err(|e| JobError(e.to_string()))?;
            entries.push(entry);
        }
        let sent = sqs
            .send_message_batch()
            .queue_url(&source.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sqs_error("SendMessageBatch", e))?;
        failed += sent.failed().len() as u64;
        let mut deletes = Vec::new();
        for ok in sent.successful() {
            let Some(m) = ok.id().parse::<usize>().ok().and_then(|i| messages.get(i)) else { continue };
            let entry = aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(ok.id())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .map_err(|e| JobError(e.to_string()))?;
            deletes.push(entry);
        }
        if !deletes.is_empty() {
            let deleted = sqs
                .delete_message_batch()
                .queue_url(&dlq.url)
                .set_entries(Some(deletes))
                .send()
                .await
                .map_err(|e| sqs_error("DeleteMessageBatch", e))?;
            moved += deleted.successful().len() as u64;
        }
    }
    let after = describe_queue(sqs, dlq.url.clone()).await?;
    let remaining = after.visible + after.in_flight;
    tracing::info!(queue = source.name, moved, failed, remaining, "redrive");
    Ok(Redrive { queue: source.name.clone(), dead_letter_queue: dlq.name.clone(), moved, failed, remaining })
}
