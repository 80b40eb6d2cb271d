//! Queues and schedules: provisioning from the template, polling each SQS event source as Lambda's event source
//! mapping does, and firing schedules.
//!
//! A batch goes to the function with the declared batch size. With `ReportBatchItemFailures` only the listed
//! messages return to the queue and the rest are deleted; without it, a failed invocation returns the whole
//! batch. A returned message becomes visible again after a short local retry delay (not the queue's full
//! visibility timeout, so a poison message reaches the dead-letter queue in seconds); the queue's redrive
//! policy then moves it to the dead-letter queue after `maxReceiveCount` receives.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use chrono::Utc;
use serde_json::{Value, json};

use crate::runtime::Invocation;
use crate::schedule::Schedule;
use crate::{BoxError, Cloud};
use local_cloud::template::{ACCOUNT, Template, Trigger};

/// How long a failed message stays invisible before its next delivery, locally: this many seconds times the
/// receives so far (2 s, then 4 s), instead of the queue's full visibility timeout. A poison message reaches the
/// dead-letter queue in about six seconds, and a job failing while a service restarts gets the few seconds a
/// restart takes, as it gets minutes in AWS.
const LOCAL_RETRY_DELAY_SECS: i32 = 2;

fn region() -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())
}

/// Creates every queue (dead-letter queues first), bucket (readable where the template lets its CDN read), event
/// bus and rule (with its queue targets) the template declares, and the mail sender identity. Idempotent.
pub async fn provision(template: &Template, sdk: &aws_config::SdkConfig) -> Result<(), BoxError> {
    let (sqs, s3) = (aws_sdk_sqs::Client::new(sdk), platform::aws::s3_client(sdk));
    let region = region();
    let mut queues = template.queues.clone();
    queues.sort_by_key(|q| q.redrive.is_some());
    for queue in &queues {
        let mut request = sqs.create_queue().queue_name(&queue.name);
        if let Some(v) = queue.visibility_timeout {
            request = request.attributes(QueueAttributeName::VisibilityTimeout, v.to_string());
        }
        if let Some(v) = queue.retention {
            request = request.attributes(QueueAttributeName::MessageRetentionPeriod, v.to_string());
        }
        if let Some((dlq, max)) = &queue.redrive {
            let dlq = template
                .queue(dlq)
                .ok_or_else(|| format!("{}: no dead-letter queue {dlq} in the template", queue.name))?;
            let arn = format!("arn:aws:sqs:{region}:{ACCOUNT}:{}", dlq.name);
            request = request.attributes(
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": arn, "maxReceiveCount": max}).to_string(),
            );
        }
        request.send().await.map_err(|e| format!("create queue {}: {}", queue.name, platform::aws::describe(&e)))?;
    }
    for bucket in &template.buckets {
        let exists = s3.head_bucket().bucket(bucket).send().await.is_ok();
        if !exists {
            s3.create_bucket()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| format!("create bucket {bucket}: {}", platform::aws::describe(&e)))?;
        }
    }
    for (bucket, resources) in &template.served {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resources }],
        });
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| format!("serve {bucket}: {}", platform::aws::describe(&e)))?;
    }
    let events = aws_sdk_eventbridge::Client::new(sdk);
    for bus in &template.event_buses {
        if events.describe_event_bus().name(bus).send().await.is_err() {
            events
                .create_event_bus()
                .name(bus)
                .send()
                .await
                .map_err(|e| format!("create event bus {bus}: {}", platform::aws::describe(&e)))?;
        }
    }
    for rule in &template.rules {
        let fail = |e: String| format!("rule {}: {e}", rule.name);
        events
            .put_rule()
            .name(&rule.name)
            .event_bus_name(&rule.bus)
            .event_pattern(rule.pattern.to_string())
            .send()
            .await
            .map_err(|e| fail(platform::aws::describe(&e)))?;
        let targets: Vec<aws_sdk_eventbridge::types::Target> = rule
            .targets
            .iter()
            .map(|(id, arn)| aws_sdk_eventbridge::types::Target::builder().id(id).arn(arn).build())
            .collect::<Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?;
        events
            .put_targets()
            .rule(&rule.name)
            .event_bus_name(&rule.bus)
            .set_targets(Some(targets))
            .send()
            .await
            .map_err(|e| fail(platform::aws::describe(&e)))?;
    }
    // The local endpoint, like SES in its sandbox, sends only from a verified identity.
    if let Some(from) = template.mail_from.as_deref().filter(|f| !f.is_empty()) {
        let ses = aws_sdk_sesv2::Client::new(sdk);
        if ses.get_email_identity().email_identity(from).send().await.is_err() {
            ses.create_email_identity()
                .email_identity(from)
                .send()
                .await
                .map_err(|e| format!("mail identity {from}: {}", platform::aws::describe(&e)))?;
        }
    }
    Ok(())
}

/// Visible, in flight and delayed messages of a queue.
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Value {
    use QueueAttributeName as A;
    let Ok(out) = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
    else {
        return Value::Null;
    };
    let attrs = out.attributes.unwrap_or_default();
    let get = |a: A| attrs.get(&a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    json!({
        "visible": get(A::ApproximateNumberOfMessages),
        "in_flight": get(A::ApproximateNumberOfMessagesNotVisible),
        "delayed": get(A::ApproximateNumberOfMessagesDelayed),
    })
}

pub fn start_pollers(cloud: &Arc<Cloud>) {
    for function in &cloud.template.functions {
        for trigger in &function.triggers {
            if let Trigger::Sqs { queue, batch_size, report_failures } = trigger {
                let cloud = cloud.clone();
                let (queue, batch_size, report_failures) = (queue.clone(), *batch_size, *report_failures);
                let binary = function.binary.clone();
                tokio::spawn(async move { poll(cloud, binary, queue, batch_size, report_failures).await });
            }
        }
    }
}

async fn poll(cloud: Arc<Cloud>, function: String, queue: String, batch_size: usize, report_failures: bool) {
    let Some(url) = cloud.queue_url(&queue) else { return };
    let arn = format!(
        "arn:aws:sqs:{}:{ACCOUNT}:{}",
        region(),
        cloud.template.queue(&queue).map(|q| q.name.as_str()).unwrap_or_default()
    );
    let pool = cloud.pools[&function].clone();
    loop {
        let received = cloud
            .sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(batch_size.clamp(1, 10) as i32)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                eprintln!("poll {queue}: {}", platform::aws::describe(&e));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let event = platform::trigger::sqs::lambda_event(&messages, &arn);
        let outcome = pool.invoke(event.to_string().into_bytes()).await;
        let failed: Vec<String> = match &outcome {
            Ok(Invocation::Ok(payload)) if report_failures => serde_json::from_slice::<Value>(payload)
                .ok()
                .and_then(|v| v.get("batchItemFailures").cloned())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|f| f.get("itemIdentifier").and_then(Value::as_str).map(String::from))
                .collect(),
            Ok(Invocation::Ok(_)) => Vec::new(),
            // A failed invocation returns the whole batch.
            _ => messages.iter().filter_map(|m| m.message_id().map(String::from)).collect(),
        };
        let mut done = Vec::new();
        for m in &messages {
            let (Some(id), Some(handle)) = (m.message_id(), m.receipt_handle()) else { continue };
            if failed.iter().any(|f| f == id) {
                let receives: i32 = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                let delay = LOCAL_RETRY_DELAY_SECS * receives.clamp(1, 10);
                let _ = cloud
                    .sqs
                    .change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(handle)
                    .visibility_timeout(delay)
                    .send()
                    .await;
            } else if let Ok(entry) =
                DeleteMessageBatchRequestEntry::builder().id(done.len().to_string()).receipt_handle(handle).build()
            {
                done.push(entry);
            }
        }
        if !done.is_empty() {
            if let Err(e) = cloud.sqs.delete_message_batch().queue_url(&url).set_entries(Some(done)).send().await {
                eprintln!("delete from {queue}: {}", platform::aws::describe(&e));
            }
        }
    }
}

pub fn start_schedules(cloud: &Arc<Cloud>) {
    for function in &cloud.template.functions {
        for trigger in &function.triggers {
            let Trigger::Schedule { expression, name, .. } = trigger else { continue };
            let schedule = match Schedule::parse(expression) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}: schedule {name} is not run locally: {e}", function.binary);
                    continue;
                }
            };
            let cloud = cloud.clone();
            let binary = function.binary.clone();
            tokio::spawn(async move {
                while let Some(next) = schedule.next_after(Utc::now()) {
                    let wait = (next - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                    match fire(&cloud, &binary).await {
                        Ok(result) => println!("schedule fired {binary}: {result}"),
                        Err(e) => eprintln!("schedule {binary}: {e}"),
                    }
                }
            });
        }
    }
}

/// Fires a scheduled function now, with the EventBridge scheduled-event payload.
pub async fn fire(cloud: &Cloud, name: &str) -> Result<Value, String> {
    let function = cloud.template.function(name).ok_or_else(|| format!("no function {name}"))?;
    let (rule, input) = function
        .triggers
        .iter()
        .find_map(|t| match t {
            Trigger::Schedule { name, input, .. } => Some((name.clone(), input.clone())),
            _ => None,
        })
        .ok_or_else(|| format!("{name} has no schedule"))?;
    let event = match input {
        Some(input) => serde_json::from_str(&input).map_err(|e| format!("schedule input: {e}"))?,
        None => json!({
            "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT, "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "region": region(),
            "resources": [format!("arn:aws:events:{}:{ACCOUNT}:rule/{}-{}{}", region(), cloud.template.stack, function.logical_id, rule)],
            "detail": {}
        }),
    };
    let pool = &cloud.pools[&function.binary];
    match pool.invoke(event.to_string().into_bytes()).await? {
        Invocation::Ok(result) => Ok(
            json!({"function": function.binary, "result": serde_json::from_slice::<Value>(&result).unwrap_or(Value::Null)}),
        ),
        Invocation::FunctionError(error) => Err(format!("{} failed: {error}", function.binary)),
    }
}
