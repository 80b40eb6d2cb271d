//! The control port (`LOCAL_CONTROL_PORT`, 3001; `--control-port`): the local cloud's own API and Lambda's
//! `Invoke` API, on a loopback port of their own rather than the gateway's.
//!
//! The gateway's port is the Mini App's origin, and what a browser loads from it may call it freely; these routes
//! start functions with any event and stop the cloud, so they are not there (the gateway answers them 404, as
//! API Gateway would). Here they answer only what is not a web page: a request that a browser marks as its own
//! (`Origin`, `Sec-Fetch-*`), whatever page sent it, or whose `Host` is not a loopback name (a page whose own
//! host name resolves to 127.0.0.1) is refused with 403. The command line (`local-cloud status|invoke|fire|down`),
//! the tests and an AWS SDK client (`AWS_ENDPOINT_URL_LAMBDA`, as `queue-inspect ping` uses) send neither.
//!
//!   GET  /_local/status                       routes, queues with depths, schedules, instances
//!   POST /_local/invoke/{function}            invoke with the body as the event; the result or the error
//!   POST /_local/fire/{function}              fire a scheduled function now
//!   POST /_local/shutdown                     stop the cloud
//!   POST /2015-03-31/functions/{name}/invocations   Lambda's Invoke (request-response)

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::gateway::{self, Bounded, MAX_EVENT_BYTES};
use crate::runtime::Invocation;
use crate::{Cloud, Response, json_response, poller, respond, schedule};
use local_cloud::template::Trigger;

/// Serves one request on the control port.
pub async fn handle(cloud: Arc<Cloud>, request: hyper::Request<Incoming>) -> Result<Response, hyper::Error> {
    let (parts, body) = request.into_parts();
    if from_a_browser(&parts.headers) || !loopback_host(&parts.headers) {
        let message = "the local cloud's control API answers its command line and tests, not a web page";
        return Ok(json_response(http::StatusCode::FORBIDDEN, &json!({ "message": message })));
    }
    let path = parts.uri.path();
    let lambda = path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations"));
    let body = match gateway::read_bounded(body, MAX_EVENT_BYTES, !gateway::expects_continue(&parts.headers)).await? {
        Bounded::Complete(body) => body,
        Bounded::TooLarge if lambda.is_some() => {
            // Lambda's own answer to a payload over its synchronous invocation limit.
            let message =
                format!("Request must be smaller than {MAX_EVENT_BYTES} bytes for the InvokeFunction operation");
            let mut response =
                json_response(http::StatusCode::PAYLOAD_TOO_LARGE, &json!({"Type": "User", "message": message}));
            response
                .headers_mut()
                .insert("x-amzn-errortype", http::HeaderValue::from_static("RequestEntityTooLargeException"));
            return Ok(response);
        }
        Bounded::TooLarge => {
            let message =
                format!("an event is at most {MAX_EVENT_BYTES} bytes (Lambda's limit for a synchronous invocation)");
            return Ok(json_response(http::StatusCode::PAYLOAD_TOO_LARGE, &json!({ "message": message })));
        }
    };
    if let Some(rest) = path.strip_prefix("/_local/") {
        return Ok(control_api(&cloud, &parts.method, rest, body).await);
    }
    if let Some(name) = lambda {
        return Ok(lambda_invoke(&cloud, name, body).await);
    }
    Ok(json_response(http::StatusCode::NOT_FOUND, &json!({"message": "Not Found"})))
}

/// Whether a browser made the request: browsers send `Origin` with every cross-origin request and every POST, and
/// the fetch metadata headers (`Sec-Fetch-Site`, `-Mode`, `-Dest`) with every request; no command-line client
/// or SDK sends them.
fn from_a_browser(headers: &http::HeaderMap) -> bool {
    headers.contains_key(http::header::ORIGIN) || headers.keys().any(|name| name.as_str().starts_with("sec-fetch-"))
}

/// Whether `Host` names this machine's loopback (`127.0.0.1`, any `127.x.y.z`, `[::1]`, `localhost`), with or
/// without a port. A request without `Host` (HTTP/1.0) is let through: no browser sends one.
fn loopback_host(headers: &http::HeaderMap) -> bool {
    let Some(host) = headers.get(http::header::HOST) else { return true };
    let Ok(host) = host.to_str() else { return false };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
    let routes: Vec<Value> =
        cloud.routes.iter().map(|r| json!({"method": r.method, "path": r.path, "function": r.function})).collect();
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
                schedules.push(
                    json!({"function": pool.function().binary, "rule": rule, "expression": expression, "next": next}),
                );
            }
        }
    }
    json!({"root": cloud.root, "routes": routes, "queues": queues, "schedules": schedules, "functions": functions,
           "not_emulated": cloud.template.not_emulated})
}
