//! Function instances: the real binaries, each asking the local cloud's own Lambda Runtime API for work
//! ([`crate::runtime_api`], the default), or each behind AWS's Lambda runtime interface emulator (RIE,
//! `--emulator rie`).
//!
//! Every function has a pool of up to N instances. An instance is started on an invocation that finds none idle
//! (the cold start) and kept for the next ones, as Lambda does; one invocation at a time per instance, so
//! concurrent requests use more instances instead of queueing behind each other. An instance that crashes or
//! overruns the function's timeout is killed and forgotten; the next invocation starts a fresh one.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, Semaphore};

use crate::runtime_api::{Outcome, RuntimeApi};
use local_cloud::template::{self, Function};

/// What an invocation returned.
#[derive(Debug)]
pub enum Invocation {
    /// The function's response payload.
    Ok(Vec<u8>),
    /// The function failed (an error it returned, a crash, a timeout): its error payload.
    FunctionError(String),
}

/// What stands between the local cloud and a function's binary.
#[derive(Debug, Clone)]
pub enum Emulator {
    /// Nothing: the binary talks to the local cloud's own Runtime API.
    Builtin,
    /// AWS's runtime interface emulator (the program at this path), one process per instance.
    Rie(PathBuf),
}

enum Instance {
    Builtin { process: Child, api: RuntimeApi },
    Rie { port: u16, _process: Child },
}

pub struct Pool {
    function: Function,
    env: BTreeMap<String, String>,
    binary: PathBuf,
    emulator: Emulator,
    log_dir: PathBuf,
    idle: Mutex<Vec<Instance>>,
    slots: Semaphore,
    started: std::sync::atomic::AtomicUsize,
    client: Client<HttpConnector, Full<Bytes>>,
    next_port: Arc<AtomicU16>,
    pub cold_starts: Mutex<Vec<Duration>>,
}

impl Pool {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        function: Function,
        settings: &HashMap<String, String>,
        binary: PathBuf,
        emulator: Emulator,
        log_dir: PathBuf,
        instances: usize,
        next_port: Arc<AtomicU16>,
    ) -> Self {
        // The template's environment, overridden by the local settings: `infra/local.env` is the one file of local
        // values, so a variable it sets wins over a template parameter's deploy default (CORS origins, admins…)
        // and supplies what only exists in AWS (the database secret, the cache endpoint).
        let mut env = function.environment.clone();
        for (k, v) in settings {
            if !k.starts_with("LOCAL_") {
                env.insert(k.clone(), v.clone());
            }
        }
        // What Lambda sets for every function (a runtime reads its name, memory and version; lambda_runtime
        // refuses to start without them).
        let name = &function.binary;
        for (key, value) in [
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            ("AWS_LAMBDA_FUNCTION_TIMEOUT", function.timeout_secs.to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", function.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_string()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_string()),
            ("TZ", ":UTC".to_string()),
        ] {
            env.insert(key.to_string(), value);
        }
        Self {
            function,
            env,
            binary,
            emulator,
            log_dir,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(instances.max(1)),
            started: Default::default(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            next_port,
            cold_starts: Mutex::new(Vec::new()),
        }
    }

    pub fn function(&self) -> &Function {
        &self.function
    }

    pub fn instances(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    fn arn(&self) -> String {
        let region = self.env.get("AWS_REGION").map(String::as_str).unwrap_or("us-east-1");
        format!("arn:aws:lambda:{region}:{}:function:{}", template::ACCOUNT, self.function.binary)
    }

    /// The instance's process: the binary (or RIE in front of it) with the function's environment, its output
    /// appended to `.local/functions/<function>.log`.
    fn command(&self, program: &std::path::Path) -> std::io::Result<Command> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{}.log", self.function.binary)))?;
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(&self.env)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LOCAL_INSTANCE", self.started.load(Ordering::Relaxed).to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        Ok(command)
    }

    async fn start_instance(&self) -> std::io::Result<Instance> {
        let instance = match &self.emulator {
            Emulator::Builtin => {
                let api = RuntimeApi::start(self.arn()).await?;
                let process =
                    self.command(&self.binary)?.env("AWS_LAMBDA_RUNTIME_API", api.address.to_string()).spawn()?;
                Instance::Builtin { process, api }
            }
            Emulator::Rie(rie) => {
                let port = self.next_port.fetch_add(2, Ordering::Relaxed);
                let process = self
                    .command(rie)?
                    .arg("--runtime-interface-emulator-address")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--runtime-api-address")
                    .arg(format!("127.0.0.1:{}", port + 1))
                    .arg(&self.binary)
                    .spawn()?;
                // RIE answers on its port as soon as it listens; the binary starts on the first invocation.
                let mut listening = false;
                for _ in 0..100 {
                    if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                        listening = true;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                if !listening {
                    let binary = &self.function.binary;
                    return Err(std::io::Error::other(format!("the emulator for {binary} did not listen on {port}")));
                }
                Instance::Rie { port, _process: process }
            }
        };
        self.started.fetch_add(1, Ordering::Relaxed);
        Ok(instance)
    }

    /// Invokes the function once with a JSON payload, on an idle instance or a new one.
    pub async fn invoke(&self, payload: Vec<u8>) -> Result<Invocation, String> {
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let reused = self.idle.lock().await.pop();
        let (mut instance, cold) = match reused {
            Some(instance) => (instance, false),
            None => (self.start_instance().await.map_err(|e| e.to_string())?, true),
        };
        let started = Instant::now();
        let outcome = match &mut instance {
            Instance::Builtin { process, api } => self.invoke_builtin(process, api, payload).await,
            Instance::Rie { port, .. } => self.invoke_rie(*port, payload).await,
        };
        if cold {
            self.cold_starts.lock().await.push(started.elapsed());
        }
        match &outcome {
            // A broken instance is dropped (its process killed); the next invocation starts a fresh one.
            Err(_) => {
                self.started.fetch_sub(1, Ordering::Relaxed);
            }
            Ok(_) => self.idle.lock().await.push(instance),
        }
        outcome
    }

    /// One invocation through the local cloud's Runtime API, bounded by the function's timeout and by the
    /// process's life.
    async fn invoke_builtin(
        &self,
        process: &mut Child,
        api: &RuntimeApi,
        payload: Vec<u8>,
    ) -> Result<Invocation, String> {
        let binary = &self.function.binary;
        let timeout = Duration::from_secs(self.function.timeout_secs);
        let outcome = api.invoke(payload, timeout).await?;
        tokio::select! {
            outcome = outcome => match outcome {
                Ok(Outcome::Response(body)) => Ok(Invocation::Ok(body)),
                Ok(Outcome::Error(error)) => Ok(Invocation::FunctionError(error)),
                Err(_) => Err(format!("{binary}: the invocation was dropped unanswered")),
            },
            status = process.wait() => {
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                let init = api.init_error().map(|e| format!("; its init error: {e}")).unwrap_or_default();
                Err(format!("{binary}: Runtime exited with error: {status}{init}"))
            }
            _ = tokio::time::sleep(timeout) => {
                let _ = process.start_kill();
                Err(format!("{binary}: Task timed out after {} seconds", self.function.timeout_secs))
            }
        }
    }

    async fn invoke_rie(&self, port: u16, payload: Vec<u8>) -> Result<Invocation, String> {
        let request =
            hyper::Request::post(format!("http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"))
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(payload)))
                .map_err(|e| e.to_string())?;
        // RIE enforces the function's timeout itself; this bounds RIE.
        let timeout = Duration::from_secs(self.function.timeout_secs + 5);
        match tokio::time::timeout(timeout, self.client.request(request)).await {
            Err(_) => Err(format!("{} timed out after {timeout:?}", self.function.binary)),
            Ok(Err(e)) => Err(format!("{} could not be invoked: {e}", self.function.binary)),
            Ok(Ok(response)) => {
                let status = response.status();
                let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes().to_vec();
                Ok(classify(status, body))
            }
        }
    }
}

/// RIE answers 200 with the payload, or an error payload (`errorType`, `errorMessage`) when the function failed.
fn classify(status: hyper::StatusCode, body: Vec<u8>) -> Invocation {
    if !status.is_success() {
        return Invocation::FunctionError(String::from_utf8_lossy(&body).into_owned());
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(&body) {
        if map.contains_key("errorType") && map.contains_key("errorMessage") && map.len() <= 3 {
            return Invocation::FunctionError(String::from_utf8_lossy(&body).into_owned());
        }
    }
    Invocation::Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_payload_is_a_function_error_and_anything_else_a_result() {
        let error = br#"{"errorType":"&alloc::boxed::Box<dyn core::error::Error>","errorMessage":"boom"}"#.to_vec();
        assert!(matches!(classify(hyper::StatusCode::OK, error), Invocation::FunctionError(_)));
        assert!(matches!(classify(hyper::StatusCode::OK, br#"{"statusCode":200}"#.to_vec()), Invocation::Ok(_)));
        assert!(matches!(classify(hyper::StatusCode::BAD_GATEWAY, b"x".to_vec()), Invocation::FunctionError(_)));
    }
}
