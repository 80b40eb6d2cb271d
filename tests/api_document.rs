//! The API's description agrees with the template, and the template with the repository: every `HttpApi` route of
//! `template.yaml` is an operation of `openapi.yaml` named after the function that serves it, every function has
//! its crate and its sample events, and every sample event of a route carries that route's key. The template's
//! monitoring keeps up with its queues: every dead-letter queue has an alarm, every queue is on the dashboard.
//!
//! Reads files only: no service needs to run. `template.yaml` uses CloudFormation's short tags (`!Ref`, `!GetAtt`,
//! `!Sub`, `!Split`); they parse as tagged values, and only plain keys, `!GetAtt` and `!Sub` are read here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_norway::Value;
use support::repo_root;

/// A route as API Gateway keys it: `"GET /api/v1/topics/{topic_id}"`.
type RouteKey = String;

/// One function of the template.
#[derive(Debug)]
struct Function {
    /// The template's logical id, e.g. `ListTopics`.
    logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the crate under `functions/`, the folder under `events/`, the
    /// `operationId` of its routes.
    binary: String,
    /// Its `HttpApi` events, as route keys.
    routes: Vec<RouteKey>,
    /// The `Type` of each of its events (`HttpApi`, `SQS`, `Schedule`); none for a function invoked directly.
    event_types: BTreeSet<String>,
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn route_key(method: &str, path: &str) -> RouteKey {
    format!("{} {path}", method.to_ascii_uppercase())
}

/// Every `AWS::Serverless::Function` of `template.yaml`, with its binary and its HTTP routes.
fn template_functions() -> Vec<Function> {
    let template = read_yaml(&repo_root().join("template.yaml"));
    let resources = template.get("Resources").and_then(Value::as_mapping).expect("template.yaml has Resources");
    let mut functions = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = id.as_str().expect("a resource's logical id is a string").to_string();
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{logical_id} has no Metadata.BuildProperties.Binary"))
            .to_string();
        let mut routes = Vec::new();
        let mut event_types = BTreeSet::new();
        let events = resource.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping);
        for (name, event) in events.into_iter().flatten() {
            let event_type = event
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{logical_id}: event {name:?} has no Type"));
            event_types.insert(event_type.to_string());
            if event_type != "HttpApi" {
                continue;
            }
            let property = |key: &str| {
                event
                    .get("Properties")
                    .and_then(|p| p.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{logical_id}: HttpApi event {name:?} has no plain {key}"))
            };
            routes.push(route_key(property("Method"), property("Path")));
        }
        functions.push(Function { logical_id, binary, routes, event_types });
    }
    assert!(!functions.is_empty(), "template.yaml declares no functions");
    functions
}

/// Every operation of `openapi.yaml`, by route key, with its `operationId` (`None` when it has none).
fn documented_operations() -> BTreeMap<RouteKey, Option<String>> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let document = read_yaml(&repo_root().join("openapi.yaml"));
    let paths = document.get("paths").and_then(Value::as_mapping).expect("openapi.yaml has paths");
    let mut operations = BTreeMap::new();
    for (path, item) in paths {
        let path = path.as_str().expect("a path of openapi.yaml is a string");
        let item = item.as_mapping().unwrap_or_else(|| panic!("openapi.yaml: {path} is not a mapping"));
        for (method, operation) in item {
            // Path items also hold `parameters`, `summary`, `servers`…: only HTTP methods are operations.
            let Some(method) = method.as_str().filter(|m| METHODS.contains(m)) else { continue };
            let operation_id = operation.get("operationId").and_then(Value::as_str).map(String::from);
            let key = route_key(method, path);
            assert!(operations.insert(key.clone(), operation_id).is_none(), "openapi.yaml documents {key} twice");
        }
    }
    operations
}

/// The resources of `template.yaml`, by logical id.
fn template_resources() -> serde_norway::Mapping {
    let template = read_yaml(&repo_root().join("template.yaml"));
    template.get("Resources").and_then(Value::as_mapping).cloned().expect("template.yaml has Resources")
}

/// The argument of an intrinsic function, written either short (`!GetAtt …`) or long (`Fn::GetAtt: …`).
fn intrinsic<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag.to_string().trim_start_matches('!') == name => Some(&tagged.value),
        Value::Mapping(map) if map.len() == 1 => map.get(format!("Fn::{name}").as_str()),
        _ => None,
    }
}

/// `(logical id, attribute)` of a `!GetAtt Id.Attribute` or `Fn::GetAtt: [Id, Attribute]`.
fn get_att(value: &Value) -> Option<(String, String)> {
    match intrinsic(value, "GetAtt")? {
        Value::String(s) => s.split_once('.').map(|(id, attribute)| (id.to_string(), attribute.to_string())),
        Value::Sequence(v) => Some((v.first()?.as_str()?.to_string(), v.get(1)?.as_str()?.to_string())),
        _ => None,
    }
}

/// The text of a `!Sub` (one string, or `[string, variables]`), or a plain string.
fn sub_text(value: &Value) -> Option<&str> {
    match intrinsic(value, "Sub") {
        Some(Value::Sequence(v)) => v.first()?.as_str(),
        Some(text) => text.as_str(),
        None => value.as_str(),
    }
}

/// The `.json` files directly under a directory, sorted; empty when the directory does not exist.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    files
}

#[test]
fn the_document_describes_exactly_the_http_routes_of_the_template() {
    let routed: BTreeSet<RouteKey> = template_functions().into_iter().flat_map(|f| f.routes).collect();
    let documented: BTreeSet<RouteKey> = documented_operations().into_keys().collect();
    let undocumented: Vec<&RouteKey> = routed.difference(&documented).collect();
    let unrouted: Vec<&RouteKey> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "template.yaml and openapi.yaml disagree\n  routes of the template missing from openapi.yaml: {undocumented:?}\n  \
         operations of openapi.yaml that no HttpApi event of the template serves: {unrouted:?}"
    );
}

#[test]
fn each_operation_id_is_the_binary_of_the_function_that_serves_the_route() {
    let operations = documented_operations();
    let mut wrong = Vec::new();
    for function in template_functions() {
        for route in &function.routes {
            // A route missing from the document is the other test's finding; here only names are compared.
            // A function that serves several routes names the further ones `<binary>.<what>` (operationIds are unique).
            let names_it = |id: &str| {
                id == function.binary
                    || (function.routes.len() > 1
                        && id.strip_prefix(function.binary.as_str()).is_some_and(|r| r.starts_with('.')))
            };
            let misnamed = operations.get(route).filter(|id| !id.as_deref().is_some_and(names_it));
            if let Some(operation_id) = misnamed {
                wrong.push(format!(
                    "{route}: operationId {operation_id:?}, but {} is binary {:?}",
                    function.logical_id, function.binary
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "operationIds that do not name their function's binary:\n  {}", wrong.join("\n  "));
}

#[test]
fn every_function_of_the_template_has_its_crate_and_at_least_one_sample_event() {
    let root = repo_root();
    let mut problems = Vec::new();
    for function in template_functions() {
        let crate_dir = root.join("functions").join(&function.binary);
        if !crate_dir.is_dir() {
            problems.push(format!(
                "{} (binary {}): no directory functions/{}",
                function.logical_id, function.binary, function.binary
            ));
        }
        if json_files(&root.join("events").join(&function.binary)).is_empty() {
            problems.push(format!(
                "{} (binary {}): no .json sample event under events/{}/",
                function.logical_id, function.binary, function.binary
            ));
        }
    }
    assert!(problems.is_empty(), "functions without their crate or sample events:\n  {}", problems.join("\n  "));
}

#[test]
fn every_function_crate_is_a_function_of_the_template() {
    let binaries: BTreeSet<String> = template_functions().into_iter().map(|f| f.binary).collect();
    let functions_dir = repo_root().join("functions");
    let entries =
        std::fs::read_dir(&functions_dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", functions_dir.display()));
    let mut orphans: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !binaries.contains(name))
        .collect();
    orphans.sort();
    assert!(orphans.is_empty(), "directories under functions/ that no function of template.yaml builds: {orphans:?}");
}

#[test]
fn every_sample_event_of_a_route_carries_the_route_key_of_its_function() {
    let root = repo_root();
    let mut wrong = Vec::new();
    for function in template_functions().into_iter().filter(|f| !f.routes.is_empty()) {
        for file in json_files(&root.join("events").join(&function.binary)) {
            let shown = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {shown}: {e}"));
            let event: serde_json::Value = match serde_json::from_str(&text) {
                Ok(event) => event,
                Err(e) => {
                    wrong.push(format!("{shown}: not JSON: {e}"));
                    continue;
                }
            };
            // The top-level key is what API Gateway routes by; the request context repeats it when present.
            let keys = [
                ("routeKey", event.get("routeKey")),
                ("requestContext.routeKey", event.pointer("/requestContext/routeKey")),
            ];
            for (field, value) in keys {
                let required = field == "routeKey";
                match value.and_then(serde_json::Value::as_str) {
                    Some(key) if function.routes.iter().any(|route| route == key) => {}
                    None if !required && value.is_none() => {}
                    other => {
                        wrong.push(format!("{shown}: {field} is {other:?}, expected one of {:?}", function.routes))
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "sample events that would not reach their route:\n  {}", wrong.join("\n  "));
}

#[test]
fn every_function_of_the_template_comes_from_the_one_table_with_its_trigger_and_route_key() {
    let mut wrong = Vec::new();
    let template = template_functions();
    for function in &template {
        let Some(entry) = shared::functions::ALL.iter().find(|f| f.name == function.binary) else {
            wrong.push(format!("{}: no entry in shared::functions", function.binary));
            continue;
        };
        // The template's events say which trigger the entry must have: a function has events of one kind only.
        let expected = match function.event_types.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["HttpApi"] => "http",
            ["SQS"] => "queue",
            ["Schedule"] => "schedule",
            [] => "invoke",
            other => {
                wrong.push(format!("{}: events of several kinds {other:?}", function.binary));
                continue;
            }
        };
        if entry.trigger_kind() != expected {
            wrong.push(format!(
                "{}: shared::functions says {}, the template's events {expected}",
                function.binary,
                entry.trigger_kind()
            ));
        }
        if let Some(key) = entry.route_key()
            && !function.routes.iter().any(|k| k == key)
        {
            wrong.push(format!(
                "{}: shared::functions says {key:?}, the template {:?}",
                function.binary, function.routes
            ));
        }
        let main = repo_root().join("functions").join(&function.binary).join("src/main.rs");
        let source = std::fs::read_to_string(&main).unwrap_or_else(|e| panic!("cannot read {}: {e}", main.display()));
        let call = format!("shared::functions::{}.run()", function.binary.to_ascii_uppercase().replace('-', "_"));
        if !source.contains(&call) {
            wrong.push(format!("{}: main.rs does not call {call}", function.binary));
        }
    }
    let table: BTreeSet<&str> = shared::functions::ALL.iter().map(|f| f.name).collect();
    assert_eq!(table.len(), shared::functions::ALL.len(), "two entries of shared::functions name the same function");
    let in_template: BTreeSet<&str> = template.iter().map(|f| f.binary.as_str()).collect();
    let extra: Vec<&&str> = table.difference(&in_template).collect();
    assert!(extra.is_empty(), "entries of shared::functions that template.yaml does not declare: {extra:?}");
    assert!(wrong.is_empty(), "functions that disagree with shared::functions:\n  {}", wrong.join("\n  "));
}

#[test]
fn every_dead_letter_queue_has_an_alarm_and_every_job_queue_is_on_the_dashboard() {
    let resources = template_resources();
    let of_type = |kind: &'static str| {
        resources
            .iter()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|(id, r)| (id.as_str().expect("a resource's logical id is a string"), r))
    };
    let queues: Vec<&str> = of_type("AWS::SQS::Queue").map(|(id, _)| id).collect();
    assert!(!queues.is_empty(), "template.yaml declares no queues");
    let mut problems = Vec::new();

    // A dead-letter queue is whatever another queue's RedrivePolicy sends its failed messages to.
    let mut dead_letter_queues = BTreeSet::new();
    for (id, queue) in of_type("AWS::SQS::Queue") {
        let Some(redrive) = queue.get("Properties").and_then(|p| p.get("RedrivePolicy")) else { continue };
        match redrive.get("deadLetterTargetArn").and_then(get_att) {
            Some((target, attribute)) if attribute == "Arn" && queues.contains(&target.as_str()) => {
                dead_letter_queues.insert(target);
            }
            other => problems
                .push(format!("{id}: deadLetterTargetArn is {other:?}, not !GetAtt <a queue of the template>.Arn")),
        }
        // Jobs know which receive is their last (and record the message as dead-lettered) from this number.
        let expected = u64::from(platform::jobs::MAX_RECEIVE_COUNT);
        let count = redrive.get("maxReceiveCount").and_then(Value::as_u64);
        if count != Some(expected) {
            problems.push(format!("{id}: maxReceiveCount is {count:?}, the jobs expect {expected}"));
        }
    }
    if dead_letter_queues.is_empty() {
        problems.push("no queue of template.yaml has a dead-letter queue".to_string());
    }

    // The queues that an alarm on visible messages watches, by the `!GetAtt Queue.QueueName` of its dimension.
    let mut alarmed = BTreeSet::new();
    for (_, alarm) in of_type("AWS::CloudWatch::Alarm") {
        let properties = alarm.get("Properties");
        let metric = properties.and_then(|p| p.get("MetricName")).and_then(Value::as_str);
        if metric != Some("ApproximateNumberOfMessagesVisible") {
            continue;
        }
        let dimensions = properties.and_then(|p| p.get("Dimensions")).and_then(Value::as_sequence);
        for dimension in dimensions.into_iter().flatten() {
            if dimension.get("Name").and_then(Value::as_str) != Some("QueueName") {
                continue;
            }
            if let Some((queue, _)) = dimension.get("Value").and_then(get_att).filter(|(_, a)| a == "QueueName") {
                alarmed.insert(queue);
            }
        }
    }
    for queue in dead_letter_queues.difference(&alarmed) {
        problems.push(format!(
            "{queue} is a dead-letter queue, but no alarm on ApproximateNumberOfMessagesVisible has the dimension \
             QueueName: !GetAtt {queue}.QueueName"
        ));
    }

    // Every queue is on the dashboard: `${Queue.QueueName}` (or `${Queue}`) in some dashboard's `!Sub` body.
    let bodies: Vec<&str> = of_type("AWS::CloudWatch::Dashboard")
        .map(|(id, d)| {
            let body = d.get("Properties").and_then(|p| p.get("DashboardBody"));
            body.and_then(sub_text).unwrap_or_else(|| panic!("{id}: DashboardBody is neither a string nor a !Sub"))
        })
        .collect();
    if bodies.is_empty() {
        problems.push("template.yaml declares no AWS::CloudWatch::Dashboard".to_string());
    }
    for queue in &queues {
        // `${MailQueue.` does not match `${ContactMailQueue.`: the logical id is matched whole.
        let (attribute, reference) = (format!("${{{queue}."), format!("${{{queue}}}"));
        if !bodies.iter().any(|body| body.contains(&attribute) || body.contains(&reference)) {
            problems.push(format!("{queue} is on no dashboard (no ${{{queue}.QueueName}} in a DashboardBody)"));
        }
    }

    assert!(problems.is_empty(), "queues without their alarm or dashboard widgets:\n  {}", problems.join("\n  "));
}

#[test]
fn queue_inspect_pings_every_function_that_runs_jobs() {
    let resources = template_resources();
    let mut job_functions = BTreeSet::new();
    for (id, resource) in &resources {
        let events = resource.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping);
        let runs_jobs = events
            .into_iter()
            .flatten()
            .any(|(_, e)| matches!(e.get("Type").and_then(Value::as_str), Some("SQS" | "Schedule")));
        if runs_jobs {
            job_functions.insert(id.as_str().expect("a resource's logical id is a string").to_string());
        }
    }
    let inspect = resources.get("QueueInspect").expect("template.yaml has QueueInspect");
    let listed = inspect
        .get("Properties")
        .and_then(|p| p.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .and_then(|v| v.get("JOB_FUNCTIONS"))
        .and_then(|v| intrinsic(v, "Join"))
        .and_then(|j| j.as_sequence()?.get(1)?.as_sequence().cloned())
        .expect("QueueInspect's JOB_FUNCTIONS is a !Join of a list");
    let listed: BTreeSet<String> =
        listed.iter().filter_map(|v| intrinsic(v, "Ref").and_then(Value::as_str).map(String::from)).collect();
    assert_eq!(listed, job_functions, "JOB_FUNCTIONS must !Ref exactly the functions with an SQS or Schedule event");
    // And it may invoke each of them.
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    for f in &job_functions {
        assert!(text.contains(&format!("- !GetAtt {f}.Arn")), "QueueInspect's policy does not let it invoke {f}");
    }
}
