//! The floor every quiz function stands on: configuration, the database, the cache, the job queues, domain
//! events, media storage, mail, the Telegram Bot API client, outbound HTTPS, telemetry, the HTTP conventions and
//! one adapter per trigger kind.
//!
//! It names no feature: the features live in the `shared` crate above it, which depends on this one, so the
//! compiler refuses any import the other way. A function instance makes one [`Platform`] in `main` (configuration
//! and one client per dependency) and every invocation borrows it, so connections live across warm invocations.

pub mod aws;
pub mod bot;
pub mod cache;
pub mod config;
pub mod db;
pub mod events;
pub mod function;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod outbound;
pub mod storage;
pub mod telemetry;
pub mod tls;
pub mod trigger;

pub use function::{Function, Trigger};
pub use trigger::{BoxError, JobError};

use std::fmt;

use crate::bot::BotApi;
use crate::cache::Cache;
use crate::config::{Config, ConfigError, DatabaseSource};
use crate::db::{Database, DbError};
use crate::events::EventBus;
use crate::http::Conventions;
use crate::jobs::JobQueue;
use crate::mail::Mailer;
use crate::outbound::HttpsClient;
use crate::storage::MediaStore;

pub struct Platform {
    pub config: Config,
    pub db: Database,
    pub cache: Cache,
    pub jobs: JobQueue,
    pub storage: MediaStore,
    pub mail: Mailer,
    pub events: EventBus,
    /// The Telegram Bot API client, made on first use: most functions never talk to Telegram.
    bot: std::sync::OnceLock<BotApi>,
    /// The client that POSTs outbound webhooks, made on first use.
    webhook_client: std::sync::OnceLock<HttpsClient>,
}

/// Why a function could not start.
pub enum StartupError {
    Config(ConfigError),
    /// The database secret could not be read.
    Secret(String),
    Database(DbError),
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::Config(e) => e.fmt(f),
            StartupError::Secret(e) => e.fmt(f),
            StartupError::Database(e) => e.fmt(f),
        }
    }
}

// `main` returning an error prints its Debug form: make that the readable message.
impl fmt::Debug for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for StartupError {}

impl Platform {
    /// Builds every client from a configuration. Nothing connects yet (connections open on first use), except
    /// that a database given as a Secrets Manager secret is read now: one call per instance, at its start.
    pub async fn new(config: Config) -> Result<Self, StartupError> {
        let sdk = aws::sdk_config();
        let ca_file = config.database_ca_file.as_deref();
        let db = match &config.database {
            DatabaseSource::Url(url) => Database::new(url, ca_file),
            DatabaseSource::Secret { arn, host } => {
                let secret = aws::secret_string(&sdk, arn).await.map_err(StartupError::Secret)?;
                db::settings_from_secret(&secret, host.as_deref()).and_then(|c| Database::with_config(c, ca_file))
            }
        }
        .map_err(StartupError::Database)?;
        let cache = Cache::new(&config.redis_url, &config.cache_key_prefix);
        // Each client is made on first use from `sdk`: a function builds (and its binary links) only those its code
        // reaches.
        let jobs = JobQueue::new(&sdk, config.queues.clone());
        let storage = MediaStore::new(&sdk, config.media_bucket.clone(), config.media_base_url.clone());
        let mail = Mailer::new(&sdk, config.mail_from.clone());
        let events = EventBus::new(&sdk, config.event_bus_name.clone());
        Ok(Self {
            config,
            db,
            cache,
            jobs,
            storage,
            mail,
            events,
            bot: std::sync::OnceLock::new(),
            webhook_client: std::sync::OnceLock::new(),
        })
    }

    /// What a function's `main` calls first: logging, configuration from the environment, clients. The platform
    /// lives as long as the process, so handlers borrow it for `'static`.
    pub async fn start(function_name: &str) -> Result<&'static Platform, StartupError> {
        telemetry::init(function_name);
        let config = Config::from_env()
            .map_err(StartupError::Config)
            .inspect_err(|e| tracing::error!(error = %e, "cannot start"))?;
        telemetry::set_metrics_namespace(&config.metrics_namespace);
        let platform = Self::new(config).await.inspect_err(|e| tracing::error!(error = %e, "cannot start"))?;
        Ok(Box::leak(Box::new(platform)))
    }

    /// The bot's client for the Bot API.
    pub fn bot(&self) -> &BotApi {
        self.bot
            .get_or_init(|| BotApi::new(&self.config.telegram.api_base_url, &self.config.identity.telegram_bot_token))
    }

    /// The client outbound webhooks are delivered with: 2 s to connect, 10 s for the whole exchange.
    pub fn webhook_client(&self) -> &HttpsClient {
        self.webhook_client
            .get_or_init(|| HttpsClient::new(std::time::Duration::from_secs(2), std::time::Duration::from_secs(10)))
    }

    pub fn conventions(&self) -> Conventions {
        Conventions {
            cors_allowed_origins: self.config.cors_allowed_origins.clone(),
            max_body_bytes: self.config.max_body_bytes,
        }
    }
}
