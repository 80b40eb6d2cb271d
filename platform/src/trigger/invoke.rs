//! A direct invocation (`aws lambda invoke`, `sam local invoke`, the local cloud's `invoke`) to a handler
//! that takes and returns JSON: for operations functions such as `migrate`.

use lambda_runtime::{LambdaEvent, service_fn};

use crate::Platform;
use crate::telemetry::{self, Trigger};

use super::{BoxError, ReportFuture};

/// A directly invoked function's whole `main`: starts the instance and serves `handler` until the runtime stops.
pub fn run(
    function_name: &'static str,
    handler: fn(&'static Platform, serde_json::Value) -> ReportFuture,
) -> Result<(), BoxError> {
    super::run_instance(function_name, |platform| Box::pin(serve(platform, function_name, handler)))
}

pub async fn serve(
    platform: &'static Platform,
    name: &'static str,
    handler: fn(&'static Platform, serde_json::Value) -> ReportFuture,
) -> Result<(), BoxError> {
    // Boxed: the nested future types are otherwise too deep for the compiler's layout computation.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        Box::pin(async move {
            if let Some(answer) = super::ping_answer(&event.payload, &event.context.env_config.version) {
                return Ok(answer);
            }
            // A plain result: a failure is the caller's error, retried by nothing (`Class::Failed`).
            let (result, _) =
                telemetry::scope(Trigger::Invoke, name, &event.context.request_id, handler(platform, event.payload))
                    .await;
            result.map_err(BoxError::from)
        })
    }))
    .await
}
