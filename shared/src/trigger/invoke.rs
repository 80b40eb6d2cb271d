//! A direct invocation (`aws lambda invoke`, `sam local invoke`, the local cloud's `invoke`) to a handler
//! that takes and returns JSON: for operations functions such as `migrate`.

use std::future::Future;

use lambda_runtime::{LambdaEvent, service_fn};

use crate::platform::Platform;
use crate::telemetry;

use super::{BoxError, JobError};

pub async fn serve<H, Fut>(platform: &'static Platform, name: &'static str, handler: H) -> Result<(), BoxError>
where
    H: Fn(&'static Platform, serde_json::Value) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<serde_json::Value, JobError>> + Send,
{
    // Boxed: the nested future types are otherwise too deep for the compiler's layout computation.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        Box::pin(async move {
            let (result, _) = telemetry::scope(name, &event.context.request_id, handler(platform, event.payload)).await;
            result.map_err(BoxError::from)
        })
    }))
    .await
}
