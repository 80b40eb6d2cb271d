//! The AWS SDK configuration every client is built from.
//!
//! `aws-config` reads the usual chain (environment, profile, the Lambda role) and `AWS_ENDPOINT_URL`, so the
//! same code talks to AWS or to the local endpoint. S3 then needs path-style addressing, because a local
//! endpoint has no per-bucket host names.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Every AWS call is bounded: an endpoint that accepts connections and then stalls becomes an error the caller
/// handles (a route's fallback, a job's retry) instead of holding the invocation until Lambda's own timeout
/// kills it. The fault drills (`tests/drills.rs`) stall the local endpoint to prove it.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of an operation; the SDK's retries get another.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// An operation with all its retries.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// Loads the shared SDK configuration. Cheap: credentials are resolved lazily on first use.
pub async fn sdk_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).load().await
}

/// An S3 client; path-style addressing when an endpoint override (a local endpoint) is set.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(config)
}

/// An AWS client made on first use from the shared configuration. Which client a wrapper makes, and how, is
/// given where it is first needed ([`LazyClient::get_or_make`]), not stored: so a function's binary builds and
/// links only the clients its code reaches (a route that never sends mail carries no SES client), and an
/// instance makes none it does not call.
#[derive(Clone)]
pub struct LazyClient<C> {
    sdk: SdkConfig,
    client: std::sync::OnceLock<C>,
}

impl<C> LazyClient<C> {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self { sdk: sdk.clone(), client: std::sync::OnceLock::new() }
    }

    /// The client, made by `make` from the shared configuration the first time.
    pub fn get_or_make(&self, make: impl FnOnce(&SdkConfig) -> C) -> &C {
        self.client.get_or_init(|| make(&self.sdk))
    }
}

/// The text of a Secrets Manager secret; read once, at start-up (the database secret).
pub async fn secret_string(sdk: &SdkConfig, arn: &str) -> Result<String, String> {
    let secret = aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| format!("DATABASE_SECRET_ARN: {}", describe(&e)))?;
    secret.secret_string.ok_or_else(|| "DATABASE_SECRET_ARN: the secret holds no text".into())
}

/// The message of an SDK error with its service error, rather than the bare "service error" the SDK prints.
pub fn describe<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
