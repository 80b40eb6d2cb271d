//! The AWS SDK configuration every client is built from.
//!
//! Built from the environment alone, as Lambda gives it: the role's credentials (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), `AWS_REGION`, and an endpoint override (`AWS_ENDPOINT_URL`, or
//! `AWS_ENDPOINT_URL_<SERVICE>` for one service), so the same code talks to AWS or to the local endpoint. Not
//! `aws_config::load()`: its default chain (profile files, SSO, IMDS, the container endpoint, web identity through
//! an STS client of its own) is code that no function runs and every function's binary carried (README, "The
//! deploy build"). S3 then needs path-style addressing, because a local endpoint has no per-bucket host names.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_types::origin::Origin;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// Every AWS call is bounded: an endpoint that accepts connections and then stalls becomes an error the caller
/// handles (a route's fallback, a job's retry) instead of holding the invocation until Lambda's own timeout
/// kills it. The fault drills (`tests/drills.rs`) stall the local endpoint to prove it.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of an operation; the SDK's retries get another.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// An operation with all its retries.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// The shared SDK configuration, from the environment. Cheap: credentials are read on a client's first call
/// (a missing one is that call's error, naming the variable). Retries, the HTTPS client, the identity cache and
/// stalled-stream protection are the SDK's defaults for the behaviour version, as `aws_config::load()` gives them;
/// the HTTPS client is the SDK's own (hyper, rustls with the system's roots) on the crypto provider every other
/// client of this project uses (`platform::tls`: ring).
pub fn sdk_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).map(Region::new);
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .timeout_config(timeouts)
        .http_client(
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https(),
        )
        .service_config(ServiceEnvironment);
    if let Some(url) = env("AWS_ENDPOINT_URL") {
        // From the environment, as `aws_config::load()` marks it: a client then asks `ServiceEnvironment` for its
        // own endpoint first, and only then takes this one (set in code, it would win over the service's own).
        config.insert_origin("endpoint_url", Origin::shared_environment_variable());
        config = config.endpoint_url(url);
    }
    config.build()
}

/// A variable's value, unset when empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// A service's own settings from the environment, which each client reads when it is made from the shared
/// configuration, as `aws_config::load()` reads them: `<SETTING>_<SERVICE ID>` first (`AWS_ENDPOINT_URL_LAMBDA`
/// sends the Lambda client, and only it, elsewhere), then `<SETTING>`.
#[derive(Debug)]
struct ServiceEnvironment;

impl LoadServiceConfig for ServiceEnvironment {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        env(&service_variable(key.env(), key.service_id())).or_else(|| env(key.env()))
    }
}

/// `AWS_ENDPOINT_URL` of "Secrets Manager" is `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
fn service_variable(setting: &str, service_id: &str) -> String {
    format!("{setting}_{}", service_id.to_uppercase().replace(' ', "_"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_services_own_variable_is_named_as_the_sdk_names_it() {
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "Lambda"), "AWS_ENDPOINT_URL_LAMBDA");
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "Secrets Manager"), "AWS_ENDPOINT_URL_SECRETS_MANAGER");
        // Which the clients then take over `AWS_ENDPOINT_URL`: `queue-inspect ping` under the local cloud
        // (tests/local_cloud.rs) reaches the control port with its Lambda client, everything else the local endpoint.
    }
}
