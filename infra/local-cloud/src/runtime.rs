//! Function instances: the real binaries, each behind AWS's Lambda runtime interface emulator (RIE).
//!
//! Every function has a pool of up to N instances. An instance is one RIE process, which starts the binary on
//! its first invocation (the cold start) and keeps it for the next ones, as Lambda does; one invocation at a
//! time per instance, so concurrent requests use more instances instead of queueing behind each other.

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

use local_cloud::template::Function;

/// What an invocation returned.
#[derive(Debug)]
pub enum Invocation {
    /// The function's response payload.
    Ok(Vec<u8>),
    /// The function failed (an error it returned, a crash, a timeout): RIE's error payload.
    FunctionError(String),
}

struct Instance {
    port: u16,
    _process: Child,
}

pub struct Pool {
    function: Function,
    env: BTreeMap<String, String>,
    binary: PathBuf,
    rie: PathBuf,
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
        rie: PathBuf,
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
        env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), function.binary.clone());
        env.insert("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), function.timeout_secs.to_string());
        env.insert("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into());
        Self {
            function,
            env,
            binary,
            rie,
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

    async fn start_instance(&self) -> std::io::Result<Instance> {
        let port = self.next_port.fetch_add(2, Ordering::Relaxed);
        let n = self.started.fetch_add(1, Ordering::Relaxed);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{}.log", self.function.binary)))?;
        let process = Command::new(&self.rie)
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{}", port + 1))
            .arg(&self.binary)
            .env_clear()
            .envs(&self.env)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LOCAL_INSTANCE", n.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        // RIE answers on its port as soon as it listens; the binary starts on the first invocation.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(Instance { port, _process: process });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(std::io::Error::other(format!("the emulator for {} did not listen on {port}", self.function.binary)))
    }

    /// Invokes the function once with a JSON payload, on an idle instance or a new one.
    pub async fn invoke(&self, payload: Vec<u8>) -> Result<Invocation, String> {
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let reused = self.idle.lock().await.pop();
        let (instance, cold) = match reused {
            Some(instance) => (instance, false),
            None => (self.start_instance().await.map_err(|e| e.to_string())?, true),
        };
        let started = Instant::now();
        let request = hyper::Request::post(format!(
            "http://127.0.0.1:{}/2015-03-31/functions/function/invocations",
            instance.port
        ))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(payload)))
        .map_err(|e| e.to_string())?;
        let timeout = Duration::from_secs(self.function.timeout_secs + 5);
        let response = tokio::time::timeout(timeout, self.client.request(request)).await;
        let outcome = match response {
            Err(_) => Err(format!("{} timed out after {timeout:?}", self.function.binary)),
            Ok(Err(e)) => Err(format!("{} could not be invoked: {e}", self.function.binary)),
            Ok(Ok(response)) => {
                let status = response.status();
                let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes().to_vec();
                Ok(classify(status, body))
            }
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
