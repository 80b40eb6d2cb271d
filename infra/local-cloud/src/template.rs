//! The template, read the way the local cloud needs it: which functions exist, what triggers each, which queues
//! and buckets to create, and the environment each function gets. The one reader of `template.yaml`: the
//! agreement tests (`tests/api_document.rs`) read it through this module too, and what they check that the local
//! cloud has no use for (alarms, dashboards) they read from [`Template::resource`] with [`intrinsic`] and
//! [`get_att`], which know both ways of writing an intrinsic function.
//!
//! CloudFormation's intrinsic functions are resolved against local values: `!Ref` of a parameter is its local
//! value (from `infra/local.env`, else its default), of a queue its local URL, of a bucket its local name;
//! `!GetAtt Queue.Arn` is the local ARN; `!Sub` substitutes the same; a value that only exists in AWS (a
//! Secrets Manager reference, the cache's endpoint) resolves to nothing and takes its value from
//! `infra/local.env`, which holds every local setting.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_norway::Mapping;
pub use serde_norway::Value;

pub const ACCOUNT: &str = "123456789012";

#[derive(Debug, thiserror::Error)]
#[error("template.yaml: {0}")]
pub struct TemplateError(pub String);

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    Http { method: String, path: String },
    Sqs { queue: String, batch_size: usize, report_failures: bool },
    Schedule { name: String, expression: String, input: Option<String> },
}

impl Trigger {
    /// The route as API Gateway keys it, `"GET /api/v1/topics/{topic_id}"`, for an HTTP trigger.
    pub fn route_key(&self) -> Option<String> {
        match self {
            Trigger::Http { method, path } => Some(format!("{method} {path}")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Function {
    /// The template's logical id, e.g. `ClearExpiredSessions`.
    pub logical_id: String,
    /// The binary's name, which is also the folder under `functions/` and `events/`.
    pub binary: String,
    /// Whether `binary` is the template's `Metadata.BuildProperties.Binary` (else it is the last segment of
    /// `CodeUri`).
    pub binary_declared: bool,
    pub timeout_secs: u64,
    /// `MemorySize` (the function's, else the Globals', else Lambda's 128): what Lambda bills a millisecond at.
    pub memory_mb: u64,
    pub environment: BTreeMap<String, String>,
    pub triggers: Vec<Trigger>,
    /// The `Type` of each of its events by the event's name, as written (`HttpApi`, `SQS`, `Schedule`…), those
    /// the local cloud does not run included; empty for a function that is only invoked directly.
    pub event_kinds: BTreeMap<String, String>,
}

impl Function {
    /// Its HTTP routes, as API Gateway keys them (`"GET /api/v1/health"`).
    pub fn route_keys(&self) -> Vec<String> {
        self.triggers.iter().filter_map(Trigger::route_key).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub logical_id: String,
    pub name: String,
    pub visibility_timeout: Option<u64>,
    pub retention: Option<u64>,
    /// Logical id of the dead-letter queue and the receive count that sends a message there. A `RedrivePolicy`
    /// must name a queue of this template (`!GetAtt <queue>.Arn`) and its `maxReceiveCount`, as SQS requires.
    pub redrive: Option<(String, u64)>,
}

/// An EventBridge rule: the bus it listens on, its pattern, and the queues it delivers to.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub bus: String,
    pub pattern: serde_json::Value,
    /// `(target id, queue ARN)`.
    pub targets: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub stack: String,
    pub functions: Vec<Function>,
    pub queues: Vec<Queue>,
    pub buckets: Vec<String>,
    /// Per bucket, the object ARNs (patterns) its policy lets a service such as the CDN read. Locally the
    /// endpoint stands in for the CDN, so anyone may read exactly those, and nothing else.
    pub served: Vec<(String, Vec<String>)>,
    pub event_buses: Vec<String>,
    pub rules: Vec<Rule>,
    /// The sender address the functions use locally (`MAIL_FROM`, else the `MailFrom` parameter): the identity
    /// the local endpoint must know before it accepts mail from it.
    pub mail_from: Option<String>,
    /// The resources of a type the local cloud neither creates nor runs (a VPC, a database, an alarm…), by type:
    /// `up` says so rather than passing them by in silence.
    pub not_emulated: std::collections::BTreeMap<String, Vec<String>>,
    /// Every resource as written, by logical id: for what the local cloud does not model ([`Template::resource`]).
    resources: Mapping,
}

/// Local names of the things a template refers to.
struct Locals<'a> {
    stack: &'a str,
    endpoint: &'a str,
    region: &'a str,
    parameters: HashMap<String, String>,
    resources: &'a serde_norway::Mapping,
}

impl Locals<'_> {
    fn resource_type(&self, id: &str) -> Option<&str> {
        self.resources.get(id)?.get("Type")?.as_str()
    }

    fn queue_name(&self, id: &str) -> String {
        let declared = self.resources.get(id).and_then(|r| r.get("Properties")).and_then(|p| p.get("QueueName"));
        match declared {
            Some(v) => self.resolve(v).unwrap_or_else(|| format!("{}-{}", self.stack, kebab(id))),
            None => format!("{}-{}", self.stack, kebab(id)),
        }
    }

    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::StackName" => return Some(self.stack.to_string()),
            "AWS::Region" => return Some(self.region.to_string()),
            "AWS::AccountId" => return Some(ACCOUNT.to_string()),
            "AWS::URLSuffix" => return Some("amazonaws.com".to_string()),
            _ => {}
        }
        if let Some(value) = self.parameters.get(name) {
            return Some(value.clone());
        }
        match self.resource_type(name)? {
            "AWS::SQS::Queue" => Some(format!("{}/{ACCOUNT}/{}", self.endpoint, self.queue_name(name))),
            "AWS::S3::Bucket" => Some(bucket_name(self.stack, name)),
            "AWS::Events::EventBus" => Some(self.bus_name(name)),
            "AWS::Events::Rule" => Some(format!("{}-{}", self.stack, kebab(name))),
            // A function's name is what the local cloud's Lambda API (`/2015-03-31/functions/{name}/invocations`)
            // knows it by: its binary.
            "AWS::Serverless::Function" => self
                .resources
                .get(name)?
                .get("Metadata")?
                .get("BuildProperties")?
                .get("Binary")?
                .as_str()
                .map(String::from),
            _ => None,
        }
    }

    fn bus_name(&self, id: &str) -> String {
        let declared = self.resources.get(id).and_then(|r| r.get("Properties")).and_then(|p| p.get("Name"));
        declared.and_then(|v| self.resolve(v)).unwrap_or_else(|| format!("{}-{}", self.stack, kebab(id)))
    }

    fn attribute(&self, id: &str, attribute: &str) -> Option<String> {
        match (self.resource_type(id)?, attribute) {
            ("AWS::SQS::Queue", "Arn") => {
                Some(format!("arn:aws:sqs:{}:{ACCOUNT}:{}", self.region, self.queue_name(id)))
            }
            ("AWS::SQS::Queue", "QueueName") => Some(self.queue_name(id)),
            ("AWS::S3::Bucket", "Arn") => Some(format!("arn:aws:s3:::{}", bucket_name(self.stack, id))),
            ("AWS::Events::EventBus", "Name") => Some(self.bus_name(id)),
            ("AWS::Events::EventBus", "Arn") => {
                Some(format!("arn:aws:events:{}:{ACCOUNT}:event-bus/{}", self.region, self.bus_name(id)))
            }
            _ => None,
        }
    }

    /// A template value as a local string, or `None` when it only exists in AWS.
    fn resolve(&self, value: &Value) -> Option<String> {
        match value {
            Value::String(s) if s.contains("{{resolve:") => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Tagged(_) | Value::Mapping(_) => {
                let (name, arg) = intrinsic_call(value)?;
                self.intrinsic(&name, arg)
            }
            _ => None,
        }
    }

    fn intrinsic(&self, name: &str, arg: &Value) -> Option<String> {
        match name {
            "Ref" => self.reference(arg.as_str()?),
            "GetAtt" => {
                let (id, attribute) = match arg {
                    Value::String(s) => s.split_once('.')?,
                    Value::Sequence(v) => (v.first()?.as_str()?, v.get(1)?.as_str()?),
                    _ => return None,
                };
                self.attribute(id, attribute)
            }
            "Join" => {
                let parts = arg.as_sequence()?;
                let separator = parts.first()?.as_str()?;
                let values: Option<Vec<String>> =
                    parts.get(1)?.as_sequence()?.iter().map(|v| self.resolve(v)).collect();
                Some(values?.join(separator))
            }
            "Sub" => {
                let text = sub_argument(arg)?;
                if text.contains("{{resolve:") {
                    return None;
                }
                let mut out = String::new();
                let mut rest = text;
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    let end = rest[start..].find('}')? + start;
                    let var = &rest[start + 2..end];
                    let value = match var.split_once('.') {
                        Some((id, attribute)) if !var.starts_with("AWS::") => self.attribute(id, attribute)?,
                        _ => self.reference(var)?,
                    };
                    out.push_str(&value);
                    rest = &rest[end + 1..];
                }
                out.push_str(rest);
                Some(out)
            }
            _ => None,
        }
    }
}

/// `ClearExpiredSessions` → `clear-expired-sessions`.
pub fn kebab(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The local name of a bucket the template leaves unnamed.
pub fn bucket_name(stack: &str, logical_id: &str) -> String {
    format!("{stack}-{}", kebab(logical_id))
}

/// An intrinsic function's name and argument, written short (`!GetAtt …`) or long (`Fn::GetAtt: …`, `Ref: …`).
fn intrinsic_call(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => Some((t.tag.to_string().trim_start_matches('!').to_string(), &t.value)),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let name = k.as_str()?;
            Some((name.strip_prefix("Fn::").unwrap_or(name).to_string(), v))
        }
        _ => None,
    }
}

/// The argument of the intrinsic function `name` (`GetAtt`, `Sub`, `Ref`…), written short or long.
pub fn intrinsic<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    intrinsic_call(value).filter(|(n, _)| n == name).map(|(_, arg)| arg)
}

/// `(logical id, attribute)` of a `!GetAtt Id.Attribute` or `Fn::GetAtt: [Id, Attribute]`.
pub fn get_att(value: &Value) -> Option<(&str, &str)> {
    match intrinsic(value, "GetAtt")? {
        Value::String(s) => s.split_once('.'),
        Value::Sequence(v) => Some((v.first()?.as_str()?, v.get(1)?.as_str()?)),
        _ => None,
    }
}

/// The text of a `!Sub`'s argument: one string, or the first of `[string, variables]`.
fn sub_argument(arg: &Value) -> Option<&str> {
    match arg {
        Value::Sequence(v) => v.first()?.as_str(),
        text => text.as_str(),
    }
}

/// The text of a `!Sub` (one string, or `[string, variables]`), or a plain string.
pub fn sub_text(value: &Value) -> Option<&str> {
    match intrinsic(value, "Sub") {
        Some(arg) => sub_argument(arg),
        None => value.as_str(),
    }
}

fn number(value: Option<&Value>, locals: &Locals) -> Option<u64> {
    value.and_then(|v| locals.resolve(v)).and_then(|s| s.parse().ok())
}

impl Template {
    /// Reads the template at `path`, as [`Template::parse`] does.
    pub fn read(path: &Path, stack: &str, settings: &HashMap<String, String>) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError(format!("{}: {e}", path.display())))?;
        Self::parse(&text, stack, settings)
    }

    /// Reads a template. `settings` are the local values (`infra/local.env`); a parameter takes the setting of
    /// the same name when there is one, else its default.
    pub fn parse(text: &str, stack: &str, settings: &HashMap<String, String>) -> Result<Self, TemplateError> {
        let doc: Value = serde_norway::from_str(text).map_err(|e| TemplateError(e.to_string()))?;
        let resources =
            doc.get("Resources").and_then(Value::as_mapping).ok_or_else(|| TemplateError("no Resources".into()))?;
        let mut parameters = HashMap::new();
        if let Some(params) = doc.get("Parameters").and_then(Value::as_mapping) {
            for (name, spec) in params {
                let Some(name) = name.as_str() else { continue };
                let value = settings.get(name).cloned().or_else(|| {
                    spec.get("Default")
                        .and_then(|d| d.as_str().map(String::from).or_else(|| d.as_u64().map(|n| n.to_string())))
                });
                if let Some(value) = value {
                    parameters.insert(name.to_string(), value);
                }
            }
        }
        let locals = Locals {
            stack,
            endpoint: settings.get("AWS_ENDPOINT_URL").map(String::as_str).unwrap_or("http://127.0.0.1:55000"),
            region: settings.get("AWS_REGION").map(String::as_str).unwrap_or("us-east-1"),
            parameters,
            resources,
        };

        let globals = doc.get("Globals").and_then(|g| g.get("Function"));
        let global_env =
            globals.and_then(|g| g.get("Environment")).and_then(|e| e.get("Variables")).and_then(Value::as_mapping);
        let global_timeout = number(globals.and_then(|g| g.get("Timeout")), &locals).unwrap_or(3);
        let global_memory = number(globals.and_then(|g| g.get("MemorySize")), &locals).unwrap_or(128);

        let mut template = Template {
            stack: stack.to_string(),
            functions: Vec::new(),
            queues: Vec::new(),
            buckets: Vec::new(),
            served: Vec::new(),
            event_buses: Vec::new(),
            rules: Vec::new(),
            mail_from: settings.get("MAIL_FROM").or_else(|| locals.parameters.get("MailFrom")).cloned(),
            not_emulated: Default::default(),
            resources: resources.clone(),
        };
        for (id, resource) in resources {
            let Some(id) = id.as_str() else { continue };
            let properties = resource.get("Properties");
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::Serverless::Function") => {
                    let props = properties.ok_or_else(|| TemplateError(format!("{id} has no Properties")))?;
                    let declared = resource
                        .get("Metadata")
                        .and_then(|m| m.get("BuildProperties"))
                        .and_then(|b| b.get("Binary"))
                        .and_then(Value::as_str)
                        .map(String::from);
                    let binary_declared = declared.is_some();
                    let binary = declared
                        .or_else(|| {
                            props
                                .get("CodeUri")
                                .and_then(Value::as_str)
                                .and_then(|c| c.rsplit('/').next())
                                .map(String::from)
                        })
                        .ok_or_else(|| {
                            TemplateError(format!("{id}: no binary name (Metadata.BuildProperties.Binary)"))
                        })?;
                    let mut environment = BTreeMap::new();
                    let own_env = props.get("Environment").and_then(|e| e.get("Variables")).and_then(Value::as_mapping);
                    for vars in [global_env, own_env].into_iter().flatten() {
                        for (k, v) in vars {
                            if let (Some(k), Some(v)) = (k.as_str(), locals.resolve(v)) {
                                environment.insert(k.to_string(), v);
                            }
                        }
                    }
                    let mut triggers = Vec::new();
                    let mut event_kinds = BTreeMap::new();
                    for (event_name, event) in props.get("Events").and_then(Value::as_mapping).into_iter().flatten() {
                        let event_name = event_name
                            .as_str()
                            .ok_or_else(|| TemplateError(format!("{id}: an event's name is not a string")))?;
                        let kind = event
                            .get("Type")
                            .and_then(Value::as_str)
                            .ok_or_else(|| TemplateError(format!("{id}: event {event_name:?} has no Type")))?;
                        event_kinds.insert(event_name.to_string(), kind.to_string());
                        let p = event.get("Properties");
                        let get = |k: &str| p.and_then(|p| p.get(k));
                        match kind {
                            "HttpApi" => triggers.push(Trigger::Http {
                                method: get("Method")
                                    .and_then(|v| locals.resolve(v))
                                    .unwrap_or_else(|| "ANY".into())
                                    .to_uppercase(),
                                path: get("Path")
                                    .and_then(|v| locals.resolve(v))
                                    .ok_or_else(|| TemplateError(format!("{id}: HttpApi event without Path")))?,
                            }),
                            "SQS" => {
                                let queue = get("Queue")
                                    .and_then(get_att)
                                    .map(|(queue, _)| queue.to_string())
                                    .ok_or_else(|| {
                                        TemplateError(format!(
                                            "{id}: SQS event must name a queue of this template with !GetAtt"
                                        ))
                                    })?;
                                let report_failures = get("FunctionResponseTypes")
                                    .and_then(Value::as_sequence)
                                    .is_some_and(|v| v.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")));
                                triggers.push(Trigger::Sqs {
                                    queue,
                                    batch_size: number(get("BatchSize"), &locals).unwrap_or(10) as usize,
                                    report_failures,
                                });
                            }
                            "Schedule" | "ScheduleV2" => {
                                let expression = get("Schedule")
                                    .or_else(|| get("ScheduleExpression"))
                                    .and_then(|v| locals.resolve(v))
                                    .ok_or_else(|| TemplateError(format!("{id}: schedule without an expression")))?;
                                let input = get("Input").and_then(|v| locals.resolve(v));
                                triggers.push(Trigger::Schedule { name: event_name.to_string(), expression, input });
                            }
                            _ => {}
                        }
                    }
                    let timeout_secs = number(props.get("Timeout"), &locals).unwrap_or(global_timeout);
                    let memory_mb = number(props.get("MemorySize"), &locals).unwrap_or(global_memory);
                    template.functions.push(Function {
                        logical_id: id.to_string(),
                        binary,
                        binary_declared,
                        timeout_secs,
                        memory_mb,
                        environment,
                        triggers,
                        event_kinds,
                    });
                }
                Some("AWS::SQS::Queue") => {
                    let get = |k: &str| properties.and_then(|p| p.get(k));
                    let redrive = match get("RedrivePolicy") {
                        None => None,
                        Some(r) => {
                            let target = r
                                .get("deadLetterTargetArn")
                                .and_then(get_att)
                                .filter(|&(target, attribute)| {
                                    attribute == "Arn" && locals.resource_type(target) == Some("AWS::SQS::Queue")
                                })
                                .ok_or_else(|| {
                                    TemplateError(format!(
                                        "{id}: deadLetterTargetArn must be !GetAtt <a queue of this template>.Arn"
                                    ))
                                })?;
                            let count = number(r.get("maxReceiveCount"), &locals)
                                .ok_or_else(|| TemplateError(format!("{id}: RedrivePolicy without maxReceiveCount")))?;
                            Some((target.0.to_string(), count))
                        }
                    };
                    template.queues.push(Queue {
                        logical_id: id.to_string(),
                        name: locals.queue_name(id),
                        visibility_timeout: number(get("VisibilityTimeout"), &locals),
                        retention: number(get("MessageRetentionPeriod"), &locals),
                        redrive,
                    });
                }
                Some("AWS::S3::Bucket") => template.buckets.push(bucket_name(stack, id)),
                Some("AWS::S3::BucketPolicy") => {
                    let get = |k: &str| properties.and_then(|p| p.get(k));
                    let Some(bucket) = get("Bucket").and_then(|v| locals.resolve(v)) else { continue };
                    let statements =
                        get("PolicyDocument").and_then(|d| d.get("Statement")).and_then(Value::as_sequence);
                    let mut served = Vec::new();
                    for statement in statements.into_iter().flatten() {
                        let allows_reads = statement.get("Effect").and_then(Value::as_str) == Some("Allow")
                            && statement.get("Action").and_then(Value::as_str) == Some("s3:GetObject")
                            && statement.get("Principal").and_then(|p| p.get("Service")).is_some();
                        if !allows_reads {
                            continue;
                        }
                        let resources = match statement.get("Resource") {
                            Some(Value::Sequence(items)) => items.iter().filter_map(|v| locals.resolve(v)).collect(),
                            Some(one) => locals.resolve(one).into_iter().collect(),
                            None => Vec::new(),
                        };
                        served.extend(resources);
                    }
                    if !served.is_empty() {
                        template.served.push((bucket, served));
                    }
                }
                Some("AWS::Events::EventBus") => template.event_buses.push(locals.bus_name(id)),
                Some("AWS::Events::Rule") => {
                    let get = |k: &str| properties.and_then(|p| p.get(k));
                    let Some(pattern) = get("EventPattern") else { continue }; // a scheduled rule: the schedules below
                    let pattern =
                        serde_json::to_value(pattern).map_err(|e| TemplateError(format!("{id}: EventPattern: {e}")))?;
                    let bus = get("EventBusName").and_then(|v| locals.resolve(v)).unwrap_or_else(|| "default".into());
                    let mut targets = Vec::new();
                    for target in get("Targets").and_then(Value::as_sequence).into_iter().flatten() {
                        let target_id = target.get("Id").and_then(|v| locals.resolve(v));
                        let arn = target.get("Arn").and_then(|v| locals.resolve(v));
                        match (target_id, arn) {
                            (Some(target_id), Some(arn)) if arn.starts_with("arn:aws:sqs:") => {
                                targets.push((target_id, arn))
                            }
                            _ => {
                                return Err(TemplateError(format!(
                                    "{id}: every target must be a queue of this template with an Id"
                                )));
                            }
                        }
                    }
                    template.rules.push(Rule { name: format!("{stack}-{}", kebab(id)), bus, pattern, targets });
                }
                kind => {
                    let kind = kind.unwrap_or("(no Type)").to_string();
                    template.not_emulated.entry(kind).or_default().push(id.to_string());
                }
            }
        }
        Ok(template)
    }

    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.binary == name || f.logical_id == name)
    }

    pub fn queue(&self, logical_id: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.logical_id == logical_id)
    }

    /// A resource as written, by logical id: for what this reader does not model (read its intrinsic functions
    /// with [`intrinsic`], [`get_att`] and [`sub_text`]).
    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.resources.get(logical_id)
    }

    /// Every resource of one `Type` (`AWS::CloudWatch::Alarm`), as written, with its logical id.
    pub fn resources_of_type<'t>(&'t self, kind: &'t str) -> impl Iterator<Item = (&'t str, &'t Value)> + 't {
        self.resources
            .iter()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .filter_map(|(id, r)| Some((id.as_str()?, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> HashMap<String, String> {
        HashMap::from([
            ("AWS_ENDPOINT_URL".to_string(), "http://127.0.0.1:55000".to_string()),
            ("AWS_REGION".to_string(), "us-east-1".to_string()),
        ])
    }

    fn project_template() -> Template {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml")).unwrap();
        Template::parse(&text, "quiz", &settings()).unwrap()
    }

    #[test]
    fn the_project_template_gives_every_function_with_its_triggers() {
        let t = project_template();
        let health = t.function("health").unwrap();
        assert_eq!(health.triggers, [Trigger::Http { method: "GET".into(), path: "/api/v1/health".into() }]);
        let debug = t.function("debug").unwrap();
        assert_eq!(
            debug.triggers,
            [Trigger::Sqs { queue: "DebugQueue".into(), batch_size: 10, report_failures: true }]
        );
        let sessions = t.function("ClearExpiredSessions").unwrap();
        assert_eq!(sessions.binary, "clear-expired-sessions");
        assert!(
            matches!(&sessions.triggers[0], Trigger::Schedule { expression, .. } if expression == "cron(0 3 * * ? *)")
        );
        assert!(t.function("migrate").unwrap().triggers.is_empty());
    }

    #[test]
    fn what_the_local_cloud_does_not_emulate_is_named_by_type() {
        let t = project_template();
        for (kind, id) in [
            ("AWS::EC2::VPC", "Vpc"),
            ("AWS::RDS::DBInstance", "Database"),
            ("AWS::ElastiCache::CacheCluster", "Cache"),
        ] {
            let ids = t.not_emulated.get(kind).unwrap_or_else(|| panic!("{kind} is listed: {:?}", t.not_emulated));
            assert!(ids.iter().any(|i| i == id), "{kind}: {ids:?}");
        }
        for emulated in ["AWS::Serverless::Function", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::Events::Rule"] {
            assert!(!t.not_emulated.contains_key(emulated), "{emulated}");
        }
    }

    #[test]
    fn queues_their_dead_letter_queues_and_buckets_come_from_the_template() {
        let t = project_template();
        let queue = t.queue("DebugQueue").unwrap();
        assert_eq!(queue.name, "quiz-debug");
        assert_eq!(queue.redrive, Some(("DebugDeadLetterQueue".into(), 3)));
        assert_eq!(t.queue("DebugDeadLetterQueue").unwrap().name, "quiz-debug-dlq");
        assert_eq!(t.buckets, ["quiz-media-bucket"]);
        let media = [
            "arn:aws:s3:::quiz-media-bucket/media/*",
            "arn:aws:s3:::quiz-media-bucket/og/*",
            "arn:aws:s3:::quiz-media-bucket/code/*",
        ];
        assert_eq!(
            t.served,
            [("quiz-media-bucket".to_string(), media.map(String::from).to_vec())],
            "what the CDN serves"
        );
    }

    #[test]
    fn the_event_bus_and_its_rules_come_from_the_template() {
        let template = project_template();
        assert_eq!(template.event_buses, ["quiz-events"]);
        let rule =
            template.rules.iter().find(|r| r.name == "quiz-contact-received-rule").expect("the contact.received rule");
        assert_eq!(rule.bus, "quiz-events");
        assert_eq!(rule.pattern["detail-type"][0], "contact.received");
        assert_eq!(
            rule.targets,
            [(
                "send-contact-form-email".to_string(),
                "arn:aws:sqs:us-east-1:123456789012:quiz-contact-mail".to_string()
            )]
        );
        let send = template.function("send-contact-form-email").expect("the job");
        assert!(matches!(&send.triggers[..], [Trigger::Sqs { queue, .. }] if queue == "ContactMailQueue"));
        assert_eq!(template.function("submit-contact-form").unwrap().environment["EVENT_BUS_NAME"], "quiz-events");
    }

    #[test]
    fn a_published_post_reaches_the_open_graph_image_job() {
        let template = project_template();
        let rule =
            template.rules.iter().find(|r| r.name == "quiz-post-published-rule").expect("the post.published rule");
        assert_eq!(
            (rule.bus.as_str(), &rule.pattern["detail-type"][0]),
            ("quiz-events", &serde_json::json!("post.published"))
        );
        assert_eq!(
            rule.targets,
            [("generate-og-image".to_string(), "arn:aws:sqs:us-east-1:123456789012:quiz-og-image".to_string())]
        );
        let job = template.function("generate-og-image").expect("the job");
        assert!(matches!(&job.triggers[..], [Trigger::Sqs { queue, .. }] if queue == "OgImageQueue"));
        let queue = template.queue("OgImageQueue").unwrap();
        assert_eq!(
            (queue.redrive.clone(), queue.visibility_timeout),
            (Some(("OgImageDeadLetterQueue".into(), 3)), Some(60))
        );
    }

    #[test]
    fn the_environment_resolves_to_local_values_and_leaves_out_what_only_aws_has() {
        let t = project_template();
        let env = &t.function("health").unwrap().environment;
        assert_eq!(env["DEBUG_QUEUE_URL"], "http://127.0.0.1:55000/123456789012/quiz-debug");
        assert_eq!(env["MEDIA_BUCKET"], "quiz-media-bucket");
        assert_eq!(env["RUST_LOG"], "info");
        assert!(!env.contains_key("DATABASE_URL"), "local.env gives the database's URL");
        assert!(!env.contains_key("DATABASE_SECRET_ARN"), "the database's secret only exists in AWS");
        assert!(!env.contains_key("REDIS_URL"), "the cache endpoint only exists in AWS");
    }

    #[test]
    fn functions_give_their_route_keys_event_kinds_and_where_their_binary_name_came_from() {
        let t = project_template();
        let health = t.function("Health").unwrap();
        assert_eq!((health.binary.as_str(), health.binary_declared), ("health", true));
        assert_eq!(health.route_keys(), ["GET /api/v1/health"]);
        assert_eq!(health.event_kinds.values().collect::<Vec<_>>(), ["HttpApi"]);
        let sessions = t.function("clear-expired-sessions").unwrap();
        assert!(sessions.route_keys().is_empty());
        assert_eq!(sessions.event_kinds.values().collect::<Vec<_>>(), ["Schedule"]);
        assert!(t.function("migrate").unwrap().event_kinds.is_empty());

        let text = "Resources:\n  Lone:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: functions/lone\n      Events:\n        Later: {Type: CloudWatchEvent, Properties: {}}\n        Call: {Type: HttpApi, Properties: {Method: post, Path: /lone}}\n";
        let t = Template::parse(text, "test", &HashMap::new()).unwrap();
        let lone = t.function("Lone").unwrap();
        assert_eq!((lone.binary.as_str(), lone.binary_declared), ("lone", false), "from CodeUri");
        assert_eq!(lone.route_keys(), ["POST /lone"]);
        let kinds: Vec<(&str, &str)> = lone.event_kinds.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(kinds, [("Call", "HttpApi"), ("Later", "CloudWatchEvent")], "the kinds it does not run too");
        let untyped = text.replace("Type: CloudWatchEvent, ", "");
        let error = Template::parse(&untyped, "test", &HashMap::new()).unwrap_err();
        assert!(error.to_string().contains("Lone: event \"Later\" has no Type"), "{error}");
    }

    #[test]
    fn a_redrive_policy_must_name_a_queue_of_the_template_and_its_receive_count() {
        let template = |redrive: &str| {
            let text = format!(
                "Resources:\n  Dlq:\n    Type: AWS::SQS::Queue\n  Jobs:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: {redrive}\n"
            );
            Template::parse(&text, "test", &HashMap::new()).map(|t| t.queue("Jobs").unwrap().redrive.clone())
        };
        assert_eq!(
            template("{deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}").unwrap(),
            Some(("Dlq".into(), 5))
        );
        assert_eq!(
            template("{deadLetterTargetArn: {'Fn::GetAtt': [Dlq, Arn]}, maxReceiveCount: 3}").unwrap(),
            Some(("Dlq".into(), 3)),
            "the long form"
        );
        for wrong in [
            "{deadLetterTargetArn: !GetAtt Dlq.QueueName, maxReceiveCount: 3}",
            "{deadLetterTargetArn: !GetAtt Elsewhere.Arn, maxReceiveCount: 3}",
            "{deadLetterTargetArn: !Ref Dlq, maxReceiveCount: 3}",
            "{deadLetterTargetArn: 'arn:aws:sqs:us-east-1:123456789012:other', maxReceiveCount: 3}",
        ] {
            let error = template(wrong).unwrap_err().to_string();
            assert!(error.contains("Jobs: deadLetterTargetArn must be"), "{wrong}: {error}");
        }
        let error = template("{deadLetterTargetArn: !GetAtt Dlq.Arn}").unwrap_err().to_string();
        assert!(error.contains("without maxReceiveCount"), "{error}");
    }

    #[test]
    fn intrinsic_functions_read_the_same_written_short_or_long() {
        let yaml = |text: &str| serde_norway::from_str::<Value>(text).unwrap();
        for text in ["!GetAtt Queue.Arn", "{'Fn::GetAtt': [Queue, Arn]}", "!GetAtt [Queue, Arn]"] {
            assert_eq!(get_att(&yaml(text)), Some(("Queue", "Arn")), "{text}");
        }
        assert_eq!(get_att(&yaml("!Ref Queue")), None);
        for text in ["!Ref Queue", "{Ref: Queue}"] {
            assert_eq!(intrinsic(&yaml(text), "Ref").and_then(Value::as_str), Some("Queue"), "{text}");
        }
        for text in ["!Sub 'a ${B}'", "!Sub ['a ${B}', {B: c}]", "{'Fn::Sub': 'a ${B}'}", "'a ${B}'"] {
            assert_eq!(sub_text(&yaml(text)), Some("a ${B}"), "{text}");
        }
        assert_eq!(sub_text(&yaml("!Join [',', [a]]")), None);
    }

    #[test]
    fn what_the_reader_does_not_model_is_there_as_written() {
        let t = project_template();
        // An alarm is nothing the local cloud runs: its properties are kept as the template writes them.
        let alarm = t.resource("HttpLatencyP99Alarm").expect("the p99 latency alarm");
        let properties = alarm.get("Properties").expect("its properties");
        assert_eq!(properties.get("AlarmName").and_then(sub_text), Some("${AWS::StackName}-http-latency-p99"));
        assert_eq!(properties.get("MetricName").and_then(Value::as_str), Some("Latency"));
        assert!(t.resources_of_type("AWS::CloudWatch::Alarm").any(|(id, _)| id == "HttpLatencyP99Alarm"));
        assert!(t.resource("NoSuchResource").is_none());
    }

    #[test]
    fn a_join_of_function_references_lists_the_functions_by_their_local_names() {
        let t = project_template();
        let env = &t.function("queue-inspect").unwrap().environment;
        let functions: Vec<&str> = env["JOB_FUNCTIONS"].split(',').collect();
        assert!(functions.contains(&"send-email") && functions.contains(&"clear-expired-sessions"), "{functions:?}");
        assert_eq!(env["QUEUE_NAME_PREFIX"], "quiz-");
    }
}
