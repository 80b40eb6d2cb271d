//! The local cloud: every function, route, queue-driven job and schedule of `template.yaml` on one machine.
//!
//!   local-cloud up [--port 3000] [--instances 2] [--template template.yaml]   provision, then serve until stopped
//!   local-cloud status                              routes, queues with their depths, schedules with next firing
//!   local-cloud invoke <function> [event.json]      invoke a function directly (default: its first sample event)
//!   local-cloud fire <function>                     fire a scheduled function now
//!   local-cloud metrics [--last S] [--json]          per route and job: count, errors, p50, p99, cache hit rate,
//!                                                   SQL per invocation, cold starts (from the functions' EMF lines)
//!   local-cloud down                                stop a running `up`
//!   local-cloud sign-in [--admin] [--telegram-id N] [--init-data]
//!                                                   sign in through the Mini App route with initData signed by the
//!                                                   development bot token; prints the session (or only the initData)
//!
//! Run it through `infra/cloud`, which builds it and reads `infra/local.env`.

mod gateway;
mod metrics;
mod poller;
mod runtime;
mod schedule;
mod template;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU16;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::sync::Notify;

use gateway::Route;
use runtime::{Invocation, Pool};
use template::{Template, Trigger};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct Cloud {
    root: PathBuf,
    template: Template,
    pools: HashMap<String, Arc<Pool>>,
    routes: Vec<Route>,
    sqs: aws_sdk_sqs::Client,
    endpoint: String,
    shutdown: Notify,
}

impl Cloud {
    fn pool(&self, name: &str) -> Option<&Arc<Pool>> {
        let binary = &self.template.function(name)?.binary;
        self.pools.get(binary)
    }

    fn queue_url(&self, logical_id: &str) -> Option<String> {
        let queue = self.template.queue(logical_id)?;
        Some(format!("{}/{}/{}", self.endpoint, template::ACCOUNT, queue.name))
    }
}

fn settings(root: &Path) -> HashMap<String, String> {
    shared::config::read_settings_file(&root.join("infra/local.env")).unwrap_or_default()
}

fn arg_value(args: &[String], flag: &str) -> Option<String> {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = std::env::current_dir()?;
    let settings = settings(&root);
    let port: u16 = arg_value(&args, "--port").or_else(|| settings.get("LOCAL_GATEWAY_PORT").cloned()).unwrap_or_else(|| "3000".into()).parse()?;
    let base = format!("http://127.0.0.1:{port}");
    match args.first().map(String::as_str) {
        Some("up") => {
            let instances = arg_value(&args, "--instances").unwrap_or_else(|| "2".into()).parse()?;
            let template = arg_value(&args, "--template").map(PathBuf::from).unwrap_or_else(|| root.join("template.yaml"));
            up(root, settings, port, instances, &template).await
        }
        Some("status") => print_json(control(&base, "GET", "/_local/status", Vec::new()).await?),
        Some("invoke") => {
            let function = args.get(1).ok_or("usage: local-cloud invoke <function> [event.json]")?;
            let event = match args.get(2) {
                Some(path) => std::fs::read(path)?,
                None => first_sample_event(&root, function)?,
            };
            print_json(control(&base, "POST", &format!("/_local/invoke/{function}"), event).await?)
        }
        Some("fire") => {
            let function = args.get(1).ok_or("usage: local-cloud fire <function>")?;
            print_json(control(&base, "POST", &format!("/_local/fire/{function}"), Vec::new()).await?)
        }
        Some("down") => print_json(control(&base, "POST", "/_local/shutdown", Vec::new()).await?),
        Some("metrics") => {
            // `--last 60`: only the records of the last 60 seconds (the run just made); `--json`: machine-readable.
            let last: Option<i64> = arg_value(&args, "--last").map(|s| s.parse()).transpose()?;
            let since_ms = last.map(|seconds| chrono::Utc::now().timestamp_millis() - seconds * 1000);
            let summary = metrics::summarise(&root.join(".local/functions"), since_ms)?;
            if args.iter().any(|a| a == "--json") {
                print_json(summary)
            } else {
                print!("{}", metrics::table(&summary));
                Ok(())
            }
        }
        Some("sign-in") => sign_in(&base, &settings, &args).await,
        _ => {
            eprintln!("usage: local-cloud up|status|invoke <function> [event]|fire <function>|metrics [--last S] [--json]|down|sign-in [--admin]");
            std::process::exit(2)
        }
    }
}

/// The development player signs in as this Telegram id unless told otherwise.
const DEVELOPMENT_PLAYER: i64 = 100_000_001;

/// Signs in as the development player (or, with `--admin`, the first of `ADMIN_TELEGRAM_IDS`) with initData signed
/// by the development bot token from `infra/local.env`, exactly as the Mini App would.
async fn sign_in(base: &str, settings: &HashMap<String, String>, args: &[String]) -> Result<(), BoxError> {
    let token = settings.get("TELEGRAM_BOT_TOKEN").ok_or("TELEGRAM_BOT_TOKEN is not in infra/local.env")?;
    let admin = args.iter().any(|a| a == "--admin");
    let id: i64 = match arg_value(args, "--telegram-id") {
        Some(id) => id.parse()?,
        None if admin => settings
            .get("ADMIN_TELEGRAM_IDS")
            .and_then(|ids| ids.split(',').next())
            .and_then(|id| id.trim().parse().ok())
            .ok_or("ADMIN_TELEGRAM_IDS in infra/local.env names no admin")?,
        None => DEVELOPMENT_PLAYER,
    };
    let user = shared::identity::telegram::TelegramUser {
        id,
        first_name: if admin { "Dev Admin".into() } else { "Dev Player".into() },
        last_name: None,
        username: Some(format!("dev{id}")),
        photo_url: None,
        language_code: Some("en".into()),
    };
    let init_data = shared::identity::telegram::sign_init_data(&user, chrono::Utc::now(), token);
    if args.iter().any(|a| a == "--init-data") {
        println!("{init_data}");
        return Ok(());
    }
    let body = serde_json::to_vec(&json!({ "init_data": init_data }))?;
    print_json(control(base, "POST", "/api/v1/auth/telegram/mini-app", body).await?)
}

fn first_sample_event(root: &Path, function: &str) -> Result<Vec<u8>, BoxError> {
    let dir = root.join("events").join(function);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let first = files.first().ok_or_else(|| format!("no sample event under {}", dir.display()))?;
    Ok(std::fs::read(first)?)
}

fn print_json(value: Value) -> Result<(), BoxError> {
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

async fn control(base: &str, method: &str, path: &str, body: Vec<u8>) -> Result<Value, BoxError> {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::builder().method(method).uri(format!("{base}{path}")).body(Full::new(Bytes::from(body)))?;
    let response = client.request(request).await.map_err(|e| format!("is the local cloud up at {base}? {e}"))?;
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}

async fn up(root: PathBuf, settings: HashMap<String, String>, port: u16, instances: usize, template: &Path) -> Result<(), BoxError> {
    let stack = settings.get("LOCAL_STACK_NAME").cloned().unwrap_or_else(|| "quiz".into());
    let text = std::fs::read_to_string(template).map_err(|e| format!("{}: {e}", template.display()))?;
    let template = Template::parse(&text, &stack, &settings)?;
    for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        if let Some(v) = settings.get(key) {
            // SAFETY: set once, before any other thread reads the environment.
            unsafe { std::env::set_var(key, v) };
        }
    }
    let sdk = shared::aws::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    poller::provision(&template, &sdk).await?;

    let rie = find_rie(&root)?;
    let log_dir = root.join(".local/functions");
    std::fs::create_dir_all(&log_dir)?;
    let profile_dir = root.join("target").join(settings.get("LOCAL_PROFILE").map(String::as_str).unwrap_or("local"));
    let next_port = Arc::new(AtomicU16::new(port.saturating_add(6000)));
    let mut pools = HashMap::new();
    let mut routes = Vec::new();
    for function in &template.functions {
        let binary = profile_dir.join(&function.binary);
        if !binary.exists() {
            return Err(format!("{} is not built: run infra/cloud (it builds with --profile local)", binary.display()).into());
        }
        for trigger in &function.triggers {
            if let Trigger::Http { method, path } = trigger {
                routes.push(Route { method: method.clone(), path: path.clone(), function: function.binary.clone() });
            }
        }
        let pool = Pool::new(function.clone(), &settings, binary, rie.clone(), log_dir.clone(), instances, next_port.clone());
        pools.insert(function.binary.clone(), Arc::new(pool));
    }
    routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
    let endpoint = settings.get("AWS_ENDPOINT_URL").cloned().unwrap_or_default();
    let cloud = Arc::new(Cloud { root, template, pools, routes, sqs, endpoint, shutdown: Notify::new() });

    // As after a deploy: the database is migrated before anything is served.
    if let Some(migrate) = cloud.pool("migrate") {
        match migrate.invoke(b"{}".to_vec()).await {
            Ok(Invocation::Ok(result)) => println!("migrate: {}", String::from_utf8_lossy(&result)),
            Ok(Invocation::FunctionError(e)) => return Err(format!("migrate failed: {e}").into()),
            Err(e) => return Err(format!("migrate failed: {e}").into()),
        }
    }
    poller::start_pollers(&cloud);
    poller::start_schedules(&cloud);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("local cloud on http://127.0.0.1:{port} ({} functions, {} routes)", cloud.pools.len(), cloud.routes.len());
    for r in &cloud.routes {
        println!("  {:6} {:40} -> {}", r.method, r.path, r.function);
    }
    println!("logs: .local/functions/<function>.log; stop with infra/cloud down");
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let cloud = cloud.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(cloud.clone(), peer, req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = cloud.shutdown.notified() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("local cloud stopped");
    Ok(())
}

fn find_rie(root: &Path) -> Result<PathBuf, BoxError> {
    let lib = root.join(".venv/lib");
    for entry in std::fs::read_dir(&lib).map_err(|e| format!("{}: {e}; run infra/setup", lib.display()))? {
        let candidate = entry?.path().join("site-packages/samcli/local/rapid/aws-lambda-rie-x86_64");
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    Err("the runtime interface emulator (aws-sam-cli) is not installed: run infra/setup".into())
}

type Response = hyper::Response<Full<Bytes>>;

fn respond((status, headers, body): (http::StatusCode, http::HeaderMap, Vec<u8>)) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn json_response(status: http::StatusCode, value: &Value) -> Response {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    respond((status, headers, value.to_string().into_bytes()))
}

async fn handle(cloud: Arc<Cloud>, peer: SocketAddr, request: hyper::Request<Incoming>) -> Result<Response, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    let path = parts.uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/_local/") {
        return Ok(control_api(&cloud, &parts.method, rest, body).await);
    }
    if let Some(name) = path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations")) {
        return Ok(lambda_invoke(&cloud, name, body).await);
    }
    let Some((route, params)) = cloud.routes.iter().find_map(|r| r.matches(&parts.method, &path).map(|p| (r, p))) else {
        return Ok(respond(gateway::gateway_error(http::StatusCode::NOT_FOUND, "Not Found")));
    };
    let event = gateway::to_event(route, &params, &parts.method, &path, parts.uri.query(), &parts.headers, &body, &peer.ip().to_string());
    let pool = &cloud.pools[&route.function];
    Ok(match pool.invoke(event.to_string().into_bytes()).await {
        Ok(Invocation::Ok(payload)) => match gateway::from_function(&payload) {
            Some(answer) => respond(answer),
            None => respond(gateway::gateway_error(http::StatusCode::BAD_GATEWAY, "Internal Server Error")),
        },
        Ok(Invocation::FunctionError(error)) => {
            eprintln!("{}: function error: {error}", route.function);
            respond(gateway::gateway_error(http::StatusCode::BAD_GATEWAY, "Internal Server Error"))
        }
        Err(e) => {
            eprintln!("{}: {e}", route.function);
            respond(gateway::gateway_error(http::StatusCode::BAD_GATEWAY, "Internal Server Error"))
        }
    })
}

/// Lambda's `Invoke` API (request-response), as `sam local start-lambda` serves it: what an AWS SDK client pointed
/// here with `AWS_ENDPOINT_URL_LAMBDA` calls, as `queue-inspect ping` does. A function error is a 200 with the
/// `X-Amz-Function-Error` header and the error as the payload, as Lambda answers.
async fn lambda_invoke(cloud: &Cloud, name: &str, body: Vec<u8>) -> Response {
    let name = name.rsplit(':').next().unwrap_or(name); // an ARN names the function last
    let Some(pool) = cloud.pool(name) else {
        let error = json!({"Type": "User", "message": format!("Function not found: {name}")});
        let mut response = json_response(http::StatusCode::NOT_FOUND, &error);
        response.headers_mut().insert("x-amzn-errortype", http::HeaderValue::from_static("ResourceNotFoundException"));
        return response;
    };
    let payload = if body.is_empty() { b"{}".to_vec() } else { body };
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    headers.insert("x-amz-executed-version", http::HeaderValue::from_static("$LATEST"));
    match pool.invoke(payload).await {
        Ok(Invocation::Ok(result)) => respond((http::StatusCode::OK, headers, result)),
        Ok(Invocation::FunctionError(error)) => {
            headers.insert("x-amz-function-error", http::HeaderValue::from_static("Unhandled"));
            respond((http::StatusCode::OK, headers, error.into_bytes()))
        }
        Err(e) => {
            let error = json!({"Type": "Service", "message": e});
            let mut response = json_response(http::StatusCode::BAD_GATEWAY, &error);
            response.headers_mut().insert("x-amzn-errortype", http::HeaderValue::from_static("ServiceException"));
            response
        }
    }
}

async fn control_api(cloud: &Cloud, method: &http::Method, path: &str, body: Vec<u8>) -> Response {
    let (what, name) = path.split_once('/').unwrap_or((path, ""));
    match (method.as_str(), what) {
        ("GET", "status") => json_response(http::StatusCode::OK, &status(cloud).await),
        ("POST", "invoke") => {
            let Some(pool) = cloud.pool(name) else {
                return json_response(http::StatusCode::NOT_FOUND, &json!({"message": format!("no function {name}")}));
            };
            let payload = if body.is_empty() { b"{}".to_vec() } else { body };
            match pool.invoke(payload).await {
                Ok(Invocation::Ok(result)) => json_response(
                    http::StatusCode::OK,
                    &json!({"function": pool.function().binary, "result": serde_json::from_slice::<Value>(&result).unwrap_or(Value::Null)}),
                ),
                Ok(Invocation::FunctionError(error)) => json_response(
                    http::StatusCode::OK,
                    &json!({"function": pool.function().binary, "error": serde_json::from_str::<Value>(&error).unwrap_or(Value::String(error))}),
                ),
                Err(e) => json_response(http::StatusCode::BAD_GATEWAY, &json!({"message": e})),
            }
        }
        ("POST", "fire") => match poller::fire(cloud, name).await {
            Ok(result) => json_response(http::StatusCode::OK, &result),
            Err(e) => json_response(http::StatusCode::BAD_REQUEST, &json!({"message": e})),
        },
        ("POST", "shutdown") => {
            cloud.shutdown.notify_one();
            json_response(http::StatusCode::OK, &json!({"stopping": true}))
        }
        _ => json_response(http::StatusCode::NOT_FOUND, &json!({"message": "unknown local cloud command"})),
    }
}

async fn status(cloud: &Cloud) -> Value {
    let routes: Vec<Value> = cloud.routes.iter().map(|r| json!({"method": r.method, "path": r.path, "function": r.function})).collect();
    let mut queues = Vec::new();
    for queue in &cloud.template.queues {
        let depth = poller::depth(&cloud.sqs, &cloud.queue_url(&queue.logical_id).unwrap_or_default()).await;
        queues.push(json!({"queue": queue.name, "messages": depth}));
    }
    let mut functions = BTreeMap::new();
    let mut schedules = Vec::new();
    for (name, pool) in &cloud.pools {
        let cold: Vec<f64> = pool.cold_starts.lock().await.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        functions.insert(name.clone(), json!({"instances": pool.instances(), "cold_starts_ms": cold}));
        for trigger in &pool.function().triggers {
            if let Trigger::Schedule { name: rule, expression, .. } = trigger {
                let next = schedule::Schedule::parse(expression).ok().and_then(|s| s.next_after(chrono::Utc::now()));
                schedules.push(json!({"function": pool.function().binary, "rule": rule, "expression": expression, "next": next}));
            }
        }
    }
    json!({"root": cloud.root, "routes": routes, "queues": queues, "schedules": schedules, "functions": functions})
}
