//! The local cloud: every function, route, queue-driven job and schedule of `template.yaml` on one machine.
//!
//!   local-cloud up [--port 3000] [--control-port 3001] [--instances 2] [--template template.yaml]
//!                  [--emulator builtin|rie]         provision, then serve until stopped: the gateway on --port,
//!                                                   the control API and Lambda's Invoke API on --control-port;
//!                                                   each instance's Runtime API served by the cloud itself, or
//!                                                   by AWS's runtime interface emulator
//!   local-cloud status                              routes, queues with their depths, schedules with next firing
//!   local-cloud invoke <function> [event.json]      invoke a function directly (default: its first sample event)
//!   local-cloud fire <function>                     fire a scheduled function now
//!   local-cloud metrics [--last S] [--json]         per route and job: count, errors, p50, p99, cache hit rate,
//!                                                   SQL per invocation, cold starts (from the functions' EMF lines),
//!                                                   and the cost of a million at Lambda's prices
//!   local-cloud down                                stop a running `up`
//!   local-cloud sign-in [--admin] [--telegram-id N] [--init-data]
//!                                                   sign in through the Mini App route with initData signed by the
//!                                                   development bot token; prints the session (or only the initData)
//!
//! Every command but `up` and `sign-in` talks to the control port (`--control-port`, else `LOCAL_CONTROL_PORT`
//! from `infra/local.env`, else 3001); `sign-in` goes through the gateway (`--port`, else `LOCAL_GATEWAY_PORT`,
//! else 3000), as the Mini App does. Every command takes `--port` and `--control-port`, before or after its own
//! arguments; `local-cloud --help` and `local-cloud <command> --help` say the same. The command line is read by
//! clap: an unknown command or flag, or a value that is not a number, stops it with clap's message (exit 2).
//! Run it through `infra/cloud`, which builds it and reads `infra/local.env`.

mod control;
mod gateway;
mod metrics;
mod poller;
mod runtime;
mod runtime_api;
mod schedule;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU16;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use clap::{Parser, Subcommand};
use gateway::Route;
use local_cloud::template::{self, Template, Trigger};
use runtime::{Emulator, Invocation, Pool};

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
    platform::config::read_settings_file(&root.join("infra/local.env")).unwrap_or_default()
}

/// The command line (the module's doc above is its summary).
#[derive(Debug, Parser)]
#[command(
    name = "local-cloud",
    version,
    about = "The whole SAM template on one machine: routes, queue-driven jobs and schedules",
    after_help = "Run it through infra/cloud, which builds it and reads infra/local.env."
)]
struct Cli {
    // Every command takes these, before or after its own arguments; each command's help lists them after its own.
    /// The gateway's port [default: LOCAL_GATEWAY_PORT of infra/local.env, else 3000]
    #[arg(long, global = true, value_name = "PORT", display_order = 100)]
    port: Option<u16>,
    /// The control API's and Lambda's Invoke API's port [default: LOCAL_CONTROL_PORT of infra/local.env, else 3001]
    #[arg(long, global = true, value_name = "PORT", display_order = 101)]
    control_port: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Provision, then serve until stopped: the gateway on --port, the control API and Lambda's Invoke API on
    /// --control-port
    Up {
        /// Instances of each function
        #[arg(long, default_value_t = 2, value_name = "N")]
        instances: usize,
        /// The template to run [default: template.yaml]
        #[arg(long, value_name = "FILE")]
        template: Option<PathBuf>,
        /// Run the functions `sam build` made, DIR/<logical id>/bootstrap (e.g. .aws-sam/build), instead of
        /// target/<LOCAL_PROFILE>/<binary>
        #[arg(long, value_name = "DIR")]
        sam_build: Option<PathBuf>,
        /// What serves each instance's Lambda Runtime API: this cloud itself, or AWS's runtime interface
        /// emulator (aws-sam-cli's, one process per instance in front of the binary)
        #[arg(long, value_enum, default_value_t = EmulatorChoice::Builtin)]
        emulator: EmulatorChoice,
    },
    /// Routes, queues with their depths, schedules with their next firing
    Status,
    /// Invoke a function directly
    Invoke {
        /// The function (its binary or logical id)
        function: String,
        /// The event [default: the first .json file under events/<function>/]
        #[arg(value_name = "EVENT.JSON")]
        event: Option<PathBuf>,
    },
    /// Fire a scheduled function now
    Fire {
        /// The function (its binary or logical id)
        function: String,
    },
    /// Per route and job: count, errors, p50, p99, cache hit rate, SQL per invocation, cold starts (from the
    /// functions' EMF lines), and what a million invocations cost at Lambda's list prices
    Metrics {
        /// Only the records of the last S seconds (the run just made)
        #[arg(long, value_name = "S")]
        last: Option<i64>,
        /// Machine-readable: JSON rather than a table
        #[arg(long)]
        json: bool,
    },
    /// Stop a running `up`
    Down,
    /// Sign in through the Mini App route with initData signed by the development bot token; prints the session
    SignIn(SignIn),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EmulatorChoice {
    Builtin,
    Rie,
}

#[derive(Debug, clap::Args)]
struct SignIn {
    /// As the first of ADMIN_TELEGRAM_IDS rather than the development player
    #[arg(long)]
    admin: bool,
    /// As this Telegram id
    #[arg(long, value_name = "N")]
    telegram_id: Option<i64>,
    /// Print only the signed initData, without signing in
    #[arg(long)]
    init_data: bool,
}

/// A port: the flag's value, else the setting's in `infra/local.env`, else `default`.
fn port_of(
    flag: Option<u16>,
    settings: &HashMap<String, String>,
    setting: &str,
    default: u16,
) -> Result<u16, BoxError> {
    match (flag, settings.get(setting)) {
        (Some(port), _) => Ok(port),
        (None, Some(v)) => v.parse().map_err(|e| format!("{setting} {v:?} in infra/local.env: {e}").into()),
        (None, None) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let cli = Cli::parse();
    let root = std::env::current_dir()?;
    let settings = settings(&root);
    let port = port_of(cli.port, &settings, "LOCAL_GATEWAY_PORT", 3000)?;
    let control_port = port_of(cli.control_port, &settings, "LOCAL_CONTROL_PORT", 3001)?;
    let gateway = format!("http://127.0.0.1:{port}");
    let base = format!("http://127.0.0.1:{control_port}");
    match cli.command {
        Command::Up { instances, template, sam_build, emulator } => {
            let template = template.unwrap_or_else(|| root.join("template.yaml"));
            let emulator = match emulator {
                EmulatorChoice::Builtin => Emulator::Builtin,
                EmulatorChoice::Rie => Emulator::Rie(find_rie(&root)?),
            };
            up(root, settings, port, control_port, instances, &template, sam_build, emulator).await
        }
        Command::Status => print_json(control(&base, "GET", "/_local/status", Vec::new()).await?),
        Command::Invoke { function, event } => {
            let event = match event {
                Some(path) => std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
                None => first_sample_event(&root, &function)?,
            };
            print_json(control(&base, "POST", &format!("/_local/invoke/{function}"), event).await?)
        }
        Command::Fire { function } => {
            print_json(control(&base, "POST", &format!("/_local/fire/{function}"), Vec::new()).await?)
        }
        Command::Down => print_json(control(&base, "POST", "/_local/shutdown", Vec::new()).await?),
        Command::Metrics { last, json } => {
            let since_ms = last.map(|seconds| chrono::Utc::now().timestamp_millis() - seconds * 1000);
            // Each function's MemorySize prices its invocations (the template as `up` reads it).
            let stack = settings.get("LOCAL_STACK_NAME").cloned().unwrap_or_else(|| "quiz".into());
            let memory = Template::read(&root.join("template.yaml"), &stack, &settings)
                .map(|t| t.functions.iter().map(|f| (f.binary.clone(), f.memory_mb)).collect())
                .unwrap_or_default();
            let summary = metrics::summarise(&root.join(".local/functions"), since_ms, &memory)?;
            if json {
                print_json(summary)
            } else {
                print!("{}", metrics::table(&summary));
                Ok(())
            }
        }
        Command::SignIn(sign_in_as) => sign_in(&gateway, &settings, &sign_in_as).await,
    }
}

/// The development player signs in as this Telegram id unless told otherwise.
const DEVELOPMENT_PLAYER: i64 = 100_000_001;

/// Signs in as the development player (or, with `--admin`, the first of `ADMIN_TELEGRAM_IDS`) with initData signed
/// by the development bot token from `infra/local.env`, exactly as the Mini App would.
async fn sign_in(base: &str, settings: &HashMap<String, String>, args: &SignIn) -> Result<(), BoxError> {
    let token = settings.get("TELEGRAM_BOT_TOKEN").ok_or("TELEGRAM_BOT_TOKEN is not in infra/local.env")?;
    let admin = args.admin;
    let id: i64 = match args.telegram_id {
        Some(id) => id,
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
    if args.init_data {
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
    // Every body it sends is JSON (an event, the sign-in's initData), and the JSON routes require saying so.
    let request = hyper::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response =
        client.request(request).await.map_err(|e| format!("is the local cloud up (answering on {base})? {e}"))?;
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}

#[allow(clippy::too_many_arguments)]
async fn up(
    root: PathBuf,
    mut settings: HashMap<String, String>,
    port: u16,
    control_port: u16,
    instances: usize,
    template: &Path,
    sam_build: Option<PathBuf>,
    emulator: Emulator,
) -> Result<(), BoxError> {
    if port == control_port {
        return Err(format!("the gateway and the control API need two ports, not both {port}").into());
    }
    // Bound first, so that a port in use stops this before anything is provisioned.
    let gateway_listener =
        TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("gateway port {port}: {e}"))?;
    let control_listener = TcpListener::bind(("127.0.0.1", control_port))
        .await
        .map_err(|e| format!("control port {control_port}: {e}"))?;
    // Lambda's API for the functions this cloud runs is this cloud's control port, whichever it is.
    settings.insert("AWS_ENDPOINT_URL_LAMBDA".into(), format!("http://127.0.0.1:{control_port}"));
    let stack = settings.get("LOCAL_STACK_NAME").cloned().unwrap_or_else(|| "quiz".into());
    let template = Template::read(template, &stack, &settings)?;
    for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        if let Some(v) = settings.get(key) {
            // SAFETY: set once, before any other thread reads the environment.
            unsafe { std::env::set_var(key, v) };
        }
    }
    let sdk = platform::aws::sdk_config();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    poller::provision(&template, &sdk).await?;

    let log_dir = root.join(".local/functions");
    std::fs::create_dir_all(&log_dir)?;
    let profile_dir = root.join("target").join(settings.get("LOCAL_PROFILE").map(String::as_str).unwrap_or("local"));
    let next_port = Arc::new(AtomicU16::new(port.saturating_add(6000)));
    let mut pools = HashMap::new();
    let mut routes = Vec::new();
    for function in &template.functions {
        let binary = match &sam_build {
            Some(dir) => dir.join(&function.logical_id).join("bootstrap"),
            None => profile_dir.join(&function.binary),
        };
        if !binary.exists() {
            let how = if sam_build.is_some() {
                "run infra/build"
            } else {
                "run infra/cloud (it builds with --profile local)"
            };
            return Err(format!("{} is not built: {how}", binary.display()).into());
        }
        for trigger in &function.triggers {
            if let Trigger::Http { method, path } = trigger {
                routes.push(Route { method: method.clone(), path: path.clone(), function: function.binary.clone() });
            }
        }
        let pool = Pool::new(
            function.clone(),
            &settings,
            binary,
            emulator.clone(),
            log_dir.clone(),
            instances,
            next_port.clone(),
        );
        pools.insert(function.binary.clone(), Arc::new(pool));
    }
    routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
    let endpoint = settings.get("AWS_ENDPOINT_URL").cloned().unwrap_or_default();
    let cloud = Arc::new(Cloud { root, template, pools, routes, sqs, endpoint, shutdown: Notify::new() });

    // As after a deploy: the database is migrated before anything is served.
    if let Some(migrate) = cloud.pool(shared::functions::MIGRATE.name) {
        match migrate.invoke(b"{}".to_vec()).await {
            Ok(Invocation::Ok(result)) => println!("migrate: {}", String::from_utf8_lossy(&result)),
            Ok(Invocation::FunctionError(e)) => return Err(format!("migrate failed: {e}").into()),
            Err(e) => return Err(format!("migrate failed: {e}").into()),
        }
    }
    poller::start_pollers(&cloud);
    poller::start_schedules(&cloud);

    println!("local cloud on http://127.0.0.1:{port} ({} functions, {} routes)", cloud.pools.len(), cloud.routes.len());
    for r in &cloud.routes {
        println!("  {:6} {:40} -> {}", r.method, r.path, r.function);
    }
    println!(
        "control API and Lambda's Invoke API on http://127.0.0.1:{control_port} (infra/cloud status|invoke|fire|down)"
    );
    if !cloud.template.not_emulated.is_empty() {
        println!("not emulated (neither created nor run here):");
        for (kind, ids) in &cloud.template.not_emulated {
            println!("  {kind}: {}", ids.join(", "));
        }
    }
    println!("logs: .local/functions/<function>.log; stop with infra/cloud down");
    let gateway = tokio::spawn(serve(cloud.clone(), gateway_listener, Port::Gateway));
    let control = tokio::spawn(serve(cloud.clone(), control_listener, Port::Control));
    tokio::select! {
        _ = cloud.shutdown.notified() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    gateway.abort();
    control.abort();
    println!("local cloud stopped");
    Ok(())
}

/// Which of the two ports a listener serves.
#[derive(Debug, Clone, Copy)]
enum Port {
    /// API Gateway's HTTP API: the template's routes, nothing else.
    Gateway,
    /// The local cloud's own API and Lambda's (`control.rs`).
    Control,
}

/// Accepts connections until aborted, each served by the port's handler.
async fn serve(cloud: Arc<Cloud>, listener: TcpListener, port: Port) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a little rather than spin or stop serving.
                eprintln!("{port:?} port: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let cloud = cloud.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let cloud = cloud.clone();
                async move {
                    match port {
                        Port::Gateway => handle(cloud, peer, request).await,
                        Port::Control => control::handle(cloud, request).await,
                    }
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
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

/// Serves one request on the gateway's port, as API Gateway's HTTP API: the template's routes and nothing else
/// (the control API is on its own port, and `/_local/…` here is an unknown route like any other).
async fn handle(
    cloud: Arc<Cloud>,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Result<Response, hyper::Error> {
    let (parts, body) = request.into_parts();
    // Refused before anything is invoked when it cannot fit in an event, without keeping more than fits.
    let body = match gateway::read_bounded(body, gateway::MAX_EVENT_BYTES, !gateway::expects_continue(&parts.headers))
        .await?
    {
        gateway::Bounded::Complete(body) => body,
        gateway::Bounded::TooLarge => return Ok(respond(gateway::too_large())),
    };
    let path = parts.uri.path().to_string();
    let Some((route, params)) = cloud.routes.iter().find_map(|r| r.matches(&parts.method, &path).map(|p| (r, p)))
    else {
        return Ok(respond(gateway::gateway_error(http::StatusCode::NOT_FOUND, "Not Found")));
    };
    let event = gateway::to_event(route, &params, &parts, &body, &peer.ip().to_string());
    drop(body);
    // The body fits, but the event (the body in base64 when binary, with the headers) may not.
    let event = event.to_string().into_bytes();
    if event.len() > gateway::MAX_EVENT_BYTES {
        return Ok(respond(gateway::too_large()));
    }
    let Some(pool) = cloud.pools.get(&route.function) else {
        return Ok(respond(gateway::gateway_error(http::StatusCode::BAD_GATEWAY, "Internal Server Error")));
    };
    Ok(match pool.invoke(event).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A cloud with one route and no function behind it, serving both ports on free loopback ports. A request
    /// that gets as far as invoking answers 502 (there is no instance to run), so 413 and 404 show what was
    /// refused before any invocation.
    async fn test_cloud() -> (String, String) {
        let text = "Resources:\n  Echo:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: echo}}\n    Properties:\n      Events:\n        Any: {Type: HttpApi, Properties: {Method: ANY, Path: '/echo/{name}'}}\n";
        let template = Template::parse(text, "test", &HashMap::new()).unwrap();
        let routes = vec![Route { method: "ANY".into(), path: "/echo/{name}".into(), function: "echo".into() }];
        let sqs_config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .build();
        let sqs = aws_sdk_sqs::Client::from_conf(sqs_config);
        let cloud = Cloud {
            root: PathBuf::from("."),
            template,
            pools: HashMap::new(),
            routes,
            sqs,
            endpoint: String::new(),
            shutdown: Notify::new(),
        };
        let cloud = Arc::new(cloud);
        let gateway = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let control = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let bases =
            (format!("http://{}", gateway.local_addr().unwrap()), format!("http://{}", control.local_addr().unwrap()));
        tokio::spawn(serve(cloud.clone(), gateway, Port::Gateway));
        tokio::spawn(serve(cloud, control, Port::Control));
        bases
    }

    async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, http::HeaderMap, Value) {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut request = hyper::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = client.request(request.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts.status.as_u16(), parts.headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    const MIB: usize = 1024 * 1024;

    #[tokio::test]
    async fn the_gateway_refuses_a_body_or_event_over_lambdas_limit_with_a_413_before_invoking() {
        let (gateway, _) = test_cloud().await;
        let text = [("content-type", "text/plain")];
        let binary = [("content-type", "application/octet-stream")];
        let (status, headers, body) = send("POST", &format!("{gateway}/echo/big"), &text, vec![b'x'; 7 * MIB]).await;
        assert_eq!((status, &body), (413, &json!({"message": "Request Entity Too Large"})));
        assert_eq!(headers["content-type"], "application/json");
        // 5 MiB of text fits in an event; 5 MiB of bytes, in base64, does not.
        assert_eq!(send("POST", &format!("{gateway}/echo/text"), &text, vec![b'x'; 5 * MIB]).await.0, 502, "handed on");
        assert_eq!(send("POST", &format!("{gateway}/echo/bytes"), &binary, vec![0; 5 * MIB]).await.0, 413);
        assert_eq!(send("POST", &format!("{gateway}/echo/small"), &text, b"hello".to_vec()).await.0, 502, "handed on");
        // Over the limit on an unknown route too: the size is refused first, as API Gateway does.
        assert_eq!(send("POST", &format!("{gateway}/nothing"), &text, vec![b'x'; 7 * MIB]).await.0, 413);
        assert_eq!(send("GET", &format!("{gateway}/nothing"), &[], Vec::new()).await.0, 404, "and it goes on serving");
    }

    #[tokio::test]
    async fn a_client_waiting_for_100_continue_gets_the_413_without_sending_its_body() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (gateway, _) = test_cloud().await;
        let mut stream = tokio::net::TcpStream::connect(gateway.trim_start_matches("http://")).await.unwrap();
        let head = format!(
            "POST /echo/big HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n",
            7 * MIB
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "answered (and closed) without the body");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert!(answer.ends_with(r#"{"message":"Request Entity Too Large"}"#), "{answer}");
    }

    #[tokio::test]
    async fn the_control_routes_answer_only_on_the_control_port() {
        let (gateway, control) = test_cloud().await;
        let lambda = "/2015-03-31/functions/echo/invocations";
        for (method, path) in
            [("GET", "/_local/status"), ("POST", "/_local/shutdown"), ("POST", "/_local/invoke/echo"), ("POST", lambda)]
        {
            let (status, _, body) = send(method, &format!("{gateway}{path}"), &[], Vec::new()).await;
            assert_eq!((status, body), (404, json!({"message": "Not Found"})), "{method} {path} on the gateway");
        }
        let (status, _, body) = send("GET", &format!("{control}/_local/status"), &[], Vec::new()).await;
        assert_eq!(status, 200);
        assert_eq!(body["routes"][0]["path"], "/echo/{name}", "{body}");
        let (status, headers, body) =
            send("POST", &format!("{control}/2015-03-31/functions/nothing/invocations"), &[], Vec::new()).await;
        assert_eq!(
            (status, headers["x-amzn-errortype"].to_str().unwrap()),
            (404, "ResourceNotFoundException"),
            "{body}"
        );
        let (status, _, _) = send("GET", &format!("{control}/api/v1/health"), &[], Vec::new()).await;
        assert_eq!(status, 404, "the routes are the gateway's only");
    }

    #[tokio::test]
    async fn the_control_port_refuses_web_pages_and_oversized_payloads() {
        let (_, control) = test_cloud().await;
        let status = format!("{control}/_local/status");
        for headers in [
            &[("origin", "http://127.0.0.1:3000")][..],
            &[("origin", "null")],
            &[("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "no-cors")],
            &[("host", "attacker.example:3001")],
        ] {
            let (code, _, body) = send("GET", &status, headers, Vec::new()).await;
            assert_eq!(code, 403, "{headers:?}: {body}");
        }
        for host in ["localhost:3001", "127.0.0.1", "[::1]:3001", "127.0.0.2:3001"] {
            assert_eq!(send("GET", &status, &[("host", host)], Vec::new()).await.0, 200, "{host}");
        }
        let lambda = format!("{control}/2015-03-31/functions/echo/invocations");
        let (code, headers, body) = send("POST", &lambda, &[], vec![b' '; 7 * MIB]).await;
        assert_eq!(
            (code, headers["x-amzn-errortype"].to_str().unwrap()),
            (413, "RequestEntityTooLargeException"),
            "{body}"
        );
        assert_eq!(send("POST", &format!("{control}/_local/invoke/echo"), &[], vec![b' '; 7 * MIB]).await.0, 413);
    }
}
