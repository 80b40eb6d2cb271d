//! The API's description agrees with the template, and the template with the repository: every `HttpApi` route of
//! `template.yaml` is an operation of `openapi.yaml` named after the function that serves it, every function has
//! its crate and its sample events, and every sample event of a route carries that route's key. The template's
//! monitoring keeps up with its queues: every dead-letter queue has an alarm, every queue is on the dashboard.
//!
//! Reads files only: no service needs to run. `template.yaml` is read by the local cloud's own reader
//! (`local_cloud::template`, which knows CloudFormation's short tags `!Ref`, `!GetAtt`, `!Sub` and their long
//! forms alike), so these tests check the template the local cloud runs, read the same way; what it does not model
//! (alarms, dashboards, policies) is read from its resources as written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use local_cloud::template::{Function, Template, get_att, intrinsic, sub_text};
use serde_norway::Value;
use support::repo_root;

/// A route as API Gateway keys it: `"GET /api/v1/topics/{topic_id}"`.
type RouteKey = String;

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn route_key(method: &str, path: &str) -> RouteKey {
    format!("{} {path}", method.to_ascii_uppercase())
}

/// `template.yaml` as the local cloud reads it, without local settings (every parameter at its default).
fn template() -> Template {
    Template::read(&repo_root().join("template.yaml"), "quiz", &HashMap::new()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every `AWS::Serverless::Function` of `template.yaml`, each with its logical id, its binary
/// (`Metadata.BuildProperties.Binary`: the crate under `functions/`, the folder under `events/`, the `operationId`
/// of its routes), its `HttpApi` events as route keys (`route_keys()`) and the `Type` of each of its events.
fn template_functions() -> Vec<Function> {
    let functions = template().functions;
    for function in &functions {
        assert!(function.binary_declared, "{} has no Metadata.BuildProperties.Binary", function.logical_id);
    }
    assert!(!functions.is_empty(), "template.yaml declares no functions");
    functions
}

/// The `Type`s of a function's events (`HttpApi`, `SQS`, `Schedule`); none for a function invoked directly.
fn event_types(function: &Function) -> BTreeSet<&str> {
    function.event_kinds.values().map(String::as_str).collect()
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
    let routed: BTreeSet<RouteKey> = template_functions().iter().flat_map(Function::route_keys).collect();
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
        let routes = function.route_keys();
        for route in &routes {
            // A route missing from the document is the other test's finding; here only names are compared.
            // A function that serves several routes names the further ones `<binary>.<what>` (operationIds are unique).
            let names_it = |id: &str| {
                id == function.binary
                    || (routes.len() > 1
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
    for function in template_functions() {
        let routes = function.route_keys();
        if routes.is_empty() {
            continue;
        }
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
                    Some(key) if routes.iter().any(|route| route == key) => {}
                    None if !required && value.is_none() => {}
                    other => wrong.push(format!("{shown}: {field} is {other:?}, expected one of {routes:?}")),
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
        let expected = match event_types(function).into_iter().collect::<Vec<_>>().as_slice() {
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
        let routes = function.route_keys();
        if let Some(key) = entry.route_key()
            && !routes.iter().any(|k| k == key)
        {
            wrong.push(format!("{}: shared::functions says {key:?}, the template {routes:?}", function.binary));
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
    let template = template();
    let queues: Vec<&str> = template.queues.iter().map(|q| q.logical_id.as_str()).collect();
    assert!(!queues.is_empty(), "template.yaml declares no queues");
    let mut problems = Vec::new();

    // A dead-letter queue is whatever another queue's RedrivePolicy sends its failed messages to. The reader
    // refuses a RedrivePolicy whose deadLetterTargetArn is not !GetAtt <a queue of the template>.Arn, or that has
    // no maxReceiveCount.
    let mut dead_letter_queues = BTreeSet::new();
    for queue in &template.queues {
        let Some((target, count)) = &queue.redrive else { continue };
        dead_letter_queues.insert(target.clone());
        // Jobs know which receive is their last (and record the message as dead-lettered) from this number.
        let expected = u64::from(platform::jobs::MAX_RECEIVE_COUNT);
        if *count != expected {
            problems.push(format!("{}: maxReceiveCount is {count}, the jobs expect {expected}", queue.logical_id));
        }
    }
    if dead_letter_queues.is_empty() {
        problems.push("no queue of template.yaml has a dead-letter queue".to_string());
    }

    // The queues that an alarm on visible messages watches, by the `!GetAtt Queue.QueueName` of its dimension.
    let mut alarmed = BTreeSet::new();
    for (_, alarm) in template.resources_of_type("AWS::CloudWatch::Alarm") {
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
            if let Some((queue, _)) = dimension.get("Value").and_then(get_att).filter(|&(_, a)| a == "QueueName") {
                alarmed.insert(queue.to_string());
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
    let bodies: Vec<&str> = template
        .resources_of_type("AWS::CloudWatch::Dashboard")
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
    let template = template();
    let job_functions: BTreeSet<String> = template
        .functions
        .iter()
        .filter(|f| event_types(f).iter().any(|t| matches!(*t, "SQS" | "Schedule")))
        .map(|f| f.logical_id.clone())
        .collect();
    let inspect = template.resource("QueueInspect").expect("template.yaml has QueueInspect");
    let properties = inspect.get("Properties");
    let listed = properties
        .and_then(|p| p.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .and_then(|v| v.get("JOB_FUNCTIONS"))
        .and_then(|v| intrinsic(v, "Join"))
        .and_then(|j| j.as_sequence()?.get(1)?.as_sequence())
        .expect("QueueInspect's JOB_FUNCTIONS is a !Join of a list");
    let listed: BTreeSet<String> =
        listed.iter().filter_map(|v| intrinsic(v, "Ref").and_then(Value::as_str).map(String::from)).collect();
    assert_eq!(listed, job_functions, "JOB_FUNCTIONS must !Ref exactly the functions with an SQS or Schedule event");
    // And it may invoke each of them: a statement of its own policies allows lambda:InvokeFunction on their ARNs.
    let statements = properties
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|policy| policy.get("Statement").and_then(Value::as_sequence))
        .flatten();
    let mut invocable = BTreeSet::new();
    for statement in statements {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        let invokes = match statement.get("Action") {
            Some(Value::Sequence(actions)) => actions.iter().any(|a| a.as_str() == Some("lambda:InvokeFunction")),
            Some(action) => action.as_str() == Some("lambda:InvokeFunction"),
            None => false,
        };
        if !(allows && invokes) {
            continue;
        }
        let resources = match statement.get("Resource") {
            Some(Value::Sequence(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        invocable.extend(resources.into_iter().filter_map(get_att).filter(|&(_, a)| a == "Arn").map(|(f, _)| f));
    }
    for f in &job_functions {
        assert!(invocable.contains(f.as_str()), "QueueInspect's policy does not let it invoke {f}");
    }
}

#[test]
fn every_function_may_read_the_database_secret_it_reads_at_start_up() {
    // Every function starts by reading DATABASE_SECRET_ARN (platform::aws::secret_string); a function missing
    // from the policy's roles would pass every local test and then fail to start in AWS.
    let template = template();
    let functions: BTreeSet<String> = template.functions.iter().map(|f| format!("{}Role", f.logical_id)).collect();
    let policy = template.resource("DatabaseSecretRead").expect("template.yaml has DatabaseSecretRead");
    let roles: BTreeSet<String> = policy
        .get("Properties")
        .and_then(|p| p.get("Roles"))
        .and_then(Value::as_sequence)
        .expect("DatabaseSecretRead lists Roles")
        .iter()
        .filter_map(|v| intrinsic(v, "Ref").and_then(Value::as_str).map(String::from))
        .collect();
    assert_eq!(roles, functions, "DatabaseSecretRead must !Ref the role of every function (<logical id>Role)");
}
